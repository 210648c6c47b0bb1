"""Credentials are scrubbed from any text and object we show."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.redaction import redact_object, scrub_text
from app.redaction.formats import RULES
from app.transport.auth import parse_token_file

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MX0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connecting with password=hunter2-xyz", "hunter2-xyz"),
        ("DB_PASSWORD: s3cr3t-value", "s3cr3t-value"),
        (f"token {JWT} accepted", JWT),
        ("Authorization: Bearer abcdefghijklmnop0123456789", "abcdefghijklmnop0123456789"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA"),
        ('{"api_key": "k-123456"}', "k-123456"),
        ("aws AKIAABCDEFGHIJKLMNOP here", "AKIAABCDEFGHIJKLMNOP"),
    ],
)
def test_token_like_strings_are_scrubbed(text: str, secret: str) -> None:
    assert secret not in scrub_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "secretName: tls-cert",
        "expirationSeconds: 3607",
        "k8s-mcp test log line 7",
        "- serviceAccountToken:\n    path: token",
        "tokenSecretRef: vault",
    ],
)
def test_references_and_ordinary_text_are_left_alone(text: str) -> None:
    assert scrub_text(text) == text


def test_sensitive_env_values_are_redacted_in_any_pod_template() -> None:
    deployment = {
        "kind": "Deployment",
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "env": [
                                {"name": "DB_PASSWORD", "value": "hunter2"},
                                {"name": "LOG_LEVEL", "value": "debug"},
                                {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                            ]
                        }
                    ]
                }
            }
        },
    }
    env = redact_object(deployment)["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0]["value"] == "<redacted>" and env[1]["value"] == "debug" and "valueFrom" in env[2]


def test_reveal_secrets_shows_values_but_still_drops_managed_fields() -> None:
    secret = {"kind": "Secret", "metadata": {"managedFields": [1]}, "data": {"a": "YQ=="}}
    shown = redact_object(secret, reveal_secrets=True)
    assert shown["data"] == {"a": "YQ=="} and "managedFields" not in shown["metadata"]


def test_static_token_file_follows_the_kubernetes_format() -> None:
    tokens = parse_token_file('# comment\nt1,alice,1,"dev,ops"\nt2,bob\n')
    assert tokens["t1"].user == "alice" and tokens["t1"].groups == ("dev", "ops")
    assert tokens["t2"].groups == ()


def _scrub_everything_everywhere(text: str) -> str:
    """The definition scrub_text must keep: every rule over the whole text, in order, no shortcuts."""
    return RULES.everywhere(text)


_FRAGMENTS = [
    "password",
    "PassWd",
    "DB_PWD",
    "secretName",
    "client-secret",
    "Token",
    "tokenPath",
    "API_KEY",
    "api-key",
    "AccessKey",
    "access_key_id",
    "Bearer ",
    "bEaReR\t",
    JWT,
    "eyJabc",
    "AKIAABCDEFGHIJKLMNOP",
    "ASIA0123456789ABCDEF",
    "ghp_" + "a" * 32,
    "xoxb-1234567890-abc",
    "sk-" + "Z" * 24,
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "MIIEowIBAAKCAQEA",
    "hunter2-xyz",
    "abcdefghijklmnop0123456789",
    "<redacted>",
    "<redacted aws-access-token>",
    "<redacted gcp-api-key>",
    "\n",
    "\n",
    " ",
    "\t",
    ": ",
    "=",
    '"',
    '": "',
    ",",
    ":",
    "-",
    "_",
    "kube-api-access-x7k2",
    "expirationSeconds",
    "postgres://admin:",
    "@db:5432/",
    "redis://:",
    "://",
    "@",
    ";Password=",
    "PWD=",
    "AccountKey=",
    '"auth":"',
    '\\"auth\\":\\"',
    "dXNlcjpwYXNz",
    "Basic ",
    "?sig=",
    "&X-Amz-Signature=",
    "hooks.slack.com/services/",
    "discord.com/api/webhooks/1/",
    "webhook.office.com/webhookb2/",
    "glpat-" + "b" * 20,
    "AIza" + "c" * 35,
    "npm_" + "d" * 36,
    "sk_live_" + "e" * 24,
    "==",
    "\\",
    '\\"',
    "pa\u017f\u017fword",  # long s: case-insensitive matching folds it onto "s"
    "\u212aey",  # Kelvin sign folds onto "k"
    "é",
]


_KEYS = [f for f in _FRAGMENTS if f.strip() and f not in {":", "=", '"', ",", "-", "_", ": ", '": "'}]
_SEPARATORS = [": ", "=", " = ", '": "', ":\t", " "]
_VALUES = ["hunter2-xyz", "abc", "ab", "x:y", "<redacted>", JWT, "AKIAABCDEFGHIJKLMNOP", "v@l!ue", "é-secret"]
_junk = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=6), max_size=6).map("".join)
_assignment_line = st.tuples(
    _junk, st.sampled_from(_KEYS), st.sampled_from(_SEPARATORS), st.sampled_from(_VALUES), _junk
).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(_assignment_line | _junk, min_size=1, max_size=8).map("\n".join))
def test_the_fast_scrub_gives_exactly_what_running_every_pattern_everywhere_gives(text: str) -> None:
    assert scrub_text(text) == _scrub_everything_everywhere(text)


def test_the_fast_scrub_matches_the_full_scrub_on_a_pod_manifest_and_a_large_table() -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    note: password=hunter2-xyz\n"
        "spec:\n  containers:\n  - env:\n    - name: API_TOKEN\n      value: abc123def456\n"
        "  volumes:\n  - projected:\n      sources:\n      - serviceAccountToken:\n          expirationSeconds: 3607\n"
        "          path: token\n"
    )
    table = "\n".join(f"ns-{i}   web-{i}   1/1   Running   0   5m" for i in range(500))
    keys = "\n".join(f"{k}: hunter2-xyz" for k in ("Token", "PASSWORD", "db_pwd", "x-Secret", "ApiKey", "ACCESS-KEY"))
    for text in (pod, table, pod + table, f"Authorization: Bearer {JWT}\n" + table, keys):
        assert scrub_text(text) == _scrub_everything_everywhere(text)
