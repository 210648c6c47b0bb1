"""Credentials are scrubbed from any text and object we show."""

from __future__ import annotations

import pytest

from app.output import redact_object, scrub_text
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
