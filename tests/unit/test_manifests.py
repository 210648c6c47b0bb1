"""Parsing what a model sends to resources_create_or_update: documents, line numbers, secret values."""

from __future__ import annotations

import base64

import pytest

from app.errors import ToolInputError
from app.tools.resources.manifests import parse_manifests, scrub, secret_values

TWO = """
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
# a comment-only document is skipped
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: other}
"""


def test_multi_document_yaml_gives_each_object_with_its_line() -> None:
    manifests = parse_manifests(TWO)
    assert [(m.label, m.line, m.namespace) for m in manifests] == [
        ("ConfigMap/a", 2, None),
        ("ConfigMap/b", 8, "other"),
    ]


def test_json_and_kind_list_are_accepted() -> None:
    single = parse_manifests('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}')
    listed = parse_manifests(
        '{"apiVersion": "v1", "kind": "List", "items": ['
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},'
        '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "y"}}]}'
    )
    assert [m.label for m in single] == ["ConfigMap/j"]
    assert [m.label for m in listed] == ["ConfigMap/x", "Secret/y"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n  bad", "not valid YAML or JSON: line 4"),
        ('{"apiVersion": "v1",, "kind": "Pod"}', "not valid YAML or JSON: line 1, column 21"),
        ("kind: ConfigMap\nmetadata: {name: x}", "document 1, line 1: missing apiVersion"),
        ("apiVersion: v1\nmetadata: {name: x}", "missing kind"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {generateName: x-}", "no metadata.name (generateName cannot"),
        ("apiVersion: v1\nkind: Pod", "Pod has no metadata"),
        ("- 1\n- 2", "expected a Kubernetes object (a mapping), got a number"),
        ("just text", "got a string"),
        ("   ", "resource is empty"),
        ("---\n---\n", "contains no objects"),
    ],
)
def test_bad_manifests_are_one_line_naming_the_document_and_line(text: str, message: str) -> None:
    with pytest.raises(ToolInputError) as caught:
        parse_manifests(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_yaml_error_does_not_echo_the_offending_text() -> None:
    with pytest.raises(ToolInputError) as caught:
        parse_manifests("apiVersion: v1\nkind: Secret\nstringData: {password: s3cr3t-value\n  : oops")
    assert "s3cr3t" not in str(caught.value)


def test_secret_values_are_collected_plain_and_decoded_and_scrubbed() -> None:
    encoded = base64.b64encode(b"decoded-secret").decode()
    manifests = parse_manifests(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
        f"data: {{a: {encoded}}}\nstringData: {{b: plain-secret}}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {x: not-a-secret}\n"
    )
    values = secret_values(manifests)
    assert {encoded, "decoded-secret", "plain-secret"} <= values
    assert "not-a-secret" not in values
    assert scrub("rejected plain-secret and decoded-secret", values) == "rejected <redacted> and <redacted>"


def test_a_patch_is_checked_against_its_type() -> None:
    from app.tools.resources.generic import parse_patch

    assert parse_patch('{"spec": {"replicas": 2}}', "merge") == {"spec": {"replicas": 2}}
    assert parse_patch([{"op": "remove", "path": "/x"}], "json") == [{"op": "remove", "path": "/x"}]
    for patch, kind, message in [
        ("{", "merge", "patch is not valid JSON: line 1, column 2"),
        ({"a": 1}, "json", "a json patch is a non-empty list"),
        ([{"path": "/x"}], "json", "json patch operation 1 needs 'op' and 'path'"),
        ([], "strategic", "a strategic patch is a non-empty object"),
    ]:
        with pytest.raises(ToolInputError, match=message):
            parse_patch(patch, kind)
