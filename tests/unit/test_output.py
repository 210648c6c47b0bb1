"""Pure rendering: tables, redaction, caps."""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from app.output import Table, cap_tail, cap_text, render_table, table_from_api, to_yaml
from app.redaction import redact_object

TABLE_PAYLOAD = {
    "kind": "Table",
    "columnDefinitions": [
        {"name": "Name", "priority": 0},
        {"name": "Ready", "priority": 0},
        {"name": "IP", "priority": 1},
    ],
    "rows": [
        {"cells": ["web-1", "1/1", "10.0.0.1"], "object": {"metadata": {"namespace": "a"}}},
        {"cells": ["web-2", "0/1", "10.0.0.2"], "object": {"metadata": {"namespace": "b"}}},
    ],
    "metadata": {"continue": "tok", "remainingItemCount": 5},
}


def test_tables_keep_priority_zero_columns_and_add_namespace_across_namespaces() -> None:
    table = table_from_api(TABLE_PAYLOAD, with_namespace=True)
    assert table.columns == ["NAMESPACE", "NAME", "READY"]
    assert table.rows == [["a", "web-1", "1/1"], ["b", "web-2", "0/1"]]
    assert table.continue_token == "tok"


def test_a_rendered_table_is_aligned_and_announces_the_next_page() -> None:
    rendered = render_table(
        table_from_api(TABLE_PAYLOAD, with_namespace=False), noun="pods", where="", max_chars=10_000
    )
    lines = rendered.text.splitlines()
    assert lines[0].split() == ["NAME", "READY"]
    assert lines[1].split() == ["web-1", "1/1"]
    assert 'continue="tok"' in rendered.text and "5 more pods" in rendered.text


def test_an_empty_list_is_said_in_words() -> None:
    rendered = render_table(Table(["NAME"], []), noun="pods", where=" in namespace x", max_chars=100)
    assert rendered.text == "No pods found in namespace x."


def test_the_cap_cuts_on_a_row_and_says_how_many_were_left_out() -> None:
    rows = [[f"pod-{i:04d}", "1/1"] for i in range(500)]
    rendered = render_table(Table(["NAME", "READY"], rows), noun="pods", where="", max_chars=1000)
    assert len(rendered.text) <= 1000
    assert rendered.truncated
    assert f"{500 - len(rendered.rows)} more pods" in rendered.text
    assert rendered.text.splitlines()[len(rendered.rows)].startswith(f"pod-{len(rendered.rows) - 1:04d}")


@given(
    rows=st.integers(min_value=0, max_value=400),
    width=st.integers(min_value=1, max_value=60),
    max_chars=st.integers(min_value=300, max_value=5000),
    continue_token=st.one_of(st.none(), st.text("abcdef0123", min_size=1, max_size=80)),
)
def test_a_table_and_its_closing_notes_never_exceed_the_cap(
    rows: int, width: int, max_chars: int, continue_token: str | None
) -> None:
    table = Table(["NAME", "READY"], [[f"{i:0{width}d}", "1/1"] for i in range(rows)], continue_token, 12345)
    rendered = render_table(table, noun="pods", where="", max_chars=max_chars)
    assert len(rendered.text) <= max_chars
    assert rendered.truncated == (len(rendered.rows) < rows)
    if rendered.truncated:
        assert f"[output capped: {rows - len(rendered.rows)} more pods" in rendered.text
    if continue_token:
        assert continue_token in rendered.text


@given(text=st.text(st.sampled_from("ab \n"), max_size=4000), max_chars=st.integers(min_value=200, max_value=3000))
def test_capped_text_and_its_note_never_exceed_the_cap(text: str, max_chars: int) -> None:
    for cap in (cap_text, cap_tail):
        capped, cut = cap(text, max_chars, hint="narrow it")
        assert len(capped) <= max_chars
        assert cut == (len(text) > max_chars)
        assert capped == text or "not shown; narrow it]" in capped


def test_secret_values_and_managed_fields_never_leave() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "managedFields": [{"manager": "x"}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":1}'},
        },
        "data": {"password": "c3VwZXJzZWNyZXQ="},
        "stringData": {"token": "plain-secret"},
    }
    shown = to_yaml(redact_object(secret))
    for leaked in ("c3VwZXJzZWNyZXQ=", "plain-secret", "managedFields", '"data":1'):
        assert leaked not in shown
    assert "password" in shown and "<redacted" in shown
    assert secret["data"]["password"] == "c3VwZXJzZWNyZXQ="  # the input is not modified


def test_cap_text_keeps_short_text_and_announces_cut_text() -> None:
    assert cap_text("short", 100, hint="h") == ("short", False)
    text, capped = cap_text("line\n" * 100, 50, hint="use limit")
    assert capped and "more characters not shown; use limit" in text


def test_a_diff_is_compact_ignores_server_noise_and_hides_secret_values() -> None:
    from app.output import object_diff

    live = {
        "kind": "Deployment",
        "metadata": {"name": "web", "resourceVersion": "1", "generation": 1, "managedFields": [{"x": 1}]},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}},
        "status": {"replicas": 2},
    }
    new = {
        **live,
        "metadata": {**live["metadata"], "resourceVersion": "2", "generation": 2},
        "spec": {**live["spec"], "replicas": 3},
        "status": {"replicas": 3},
    }
    diff = object_diff(live, new, name="Deployment/web")
    assert "-  replicas: 2" in diff and "+  replicas: 3" in diff
    assert "resourceVersion" not in diff and "generation" not in diff and "status" not in diff
    assert object_diff(live, live, name="Deployment/web") == ""

    secret = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "b2xk", "b": "c2FtZQ=="}}
    changed = {**secret, "data": {"a": "bmV3dmFsdWU=", "b": "c2FtZQ=="}}
    diff = object_diff(secret, changed, name="Secret/s")
    assert "b2xk" not in diff and "bmV3dmFsdWU=" not in diff
    assert "+  a: <redacted 12 chars, changed>" in diff
    assert "+  b" not in diff and "-  b" not in diff


def test_ages_read_like_kubectl() -> None:
    from datetime import UTC, datetime

    from app.output import human_age

    now = datetime(2026, 1, 2, 0, 0, 0, tzinfo=UTC)
    assert human_age("2026-01-01T23:59:15Z", now) == "45s"
    assert human_age("2026-01-01T23:00:00Z", now) == "60m"
    assert human_age("2026-01-01T00:00:00Z", now) == "24h"
    assert human_age("2025-12-25T00:00:00Z", now) == "8d"
    assert human_age(None, now) == "<unknown>"


class _Reference(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """PyYAML's own safe dumper with our string style: what to_yaml's direct path must match."""


_Reference.add_representer(
    str,
    lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None),
)


def reference_yaml(obj: object) -> str:
    return yaml.dump(obj, Dumper=_Reference, sort_keys=False, default_flow_style=False, width=120)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=150),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)


@given(JSON_VALUES)
def test_yaml_of_json_shaped_values_is_exactly_pyyamls(value: object) -> None:
    assert to_yaml(value) == reference_yaml(value)


def test_yaml_of_tricky_scalars_and_a_shared_container_is_exactly_pyyamls() -> None:
    shared = {"a": 1}
    value = {
        "words": ["yes", "no", "on", "~", "null", "", "0x1F", "1e3", "012", "a: b", "- x", "multi\nline\n", "x" * 200],
        "numbers": [0, -1, 1.5, 1e17, float("inf")],
        "empty": [{}, []],
        "twice": [shared, shared],
    }
    assert to_yaml(value) == reference_yaml(value)
    assert "&id001" in to_yaml(value)


def test_redacted_objects_are_copies() -> None:
    obj = {"kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {"containers": [{"env": []}]}}
    shown = redact_object(obj)
    shown["metadata"]["labels"]["a"] = "changed"
    shown["spec"]["containers"].append({})
    assert obj == {
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"a": "b"}},
        "spec": {"containers": [{"env": []}]},
    }
