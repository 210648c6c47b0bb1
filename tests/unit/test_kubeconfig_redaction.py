"""configuration_view's redaction: no credential of any kind survives; names, paths and harmless flags do."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from app.config import Settings
from app.kube.contexts import Contexts
from app.redaction import redact_kubeconfig
from app.scope import session_id

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzb21lb25lIn0.c2lnbmF0dXJl"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
BLOB = "QmFzZTY0RW5jb2RlZEtleU1hdGVyaWFsVGhhdElzTG9uZzEyMzQ1Njc4OTA="

KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "prod",
    "clusters": [
        {"name": "prod", "cluster": {"server": "https://prod:6443", "certificate-authority-data": BLOB}},
        {"name": "lab", "cluster": {"server": "https://lab:6443", "proxy-url": "http://u:secret-pw@proxy:3128"}},
    ],
    "users": [
        {"name": "cert", "user": {"client-certificate-data": BLOB, "client-key-data": BLOB}},
        {"name": "tok", "user": {"token": "s3cr3t-token", "tokenFile": "/var/run/token"}},
        {"name": "basic", "user": {"username": "alice", "password": "hunter2"}},
        {
            "name": "oidc",
            "user": {
                "auth-provider": {
                    "name": "oidc",
                    "config": {"client-id": "kubectl", "id-token": JWT, "refresh-token": "r", "client-secret": "c"},
                }
            },
        },
        {
            "name": "exec",
            "user": {
                "exec": {
                    "apiVersion": "client.authentication.k8s.io/v1",
                    "command": "gke-gcloud-auth-plugin",
                    "args": ["--cluster", "prod", "--api-key=abc123", "--secret", "xyz789", BLOB],
                    "env": [{"name": "CLOUDSDK_AUTH_ACCESS_TOKEN", "value": "ya29.token"}],
                }
            },
        },
        {"name": "odd", "user": {"some-plugin-field": "opaque", "as": "admin", "extensions": [{"x": PEM}]}},
    ],
    "contexts": [
        {"name": "prod", "context": {"cluster": "prod", "user": "cert", "namespace": "shop"}},
        {"name": "lab", "context": {"cluster": "lab", "user": "exec"}},
    ],
    "extensions": [{"name": "x", "extension": {"key": "value"}}],
}
SECRETS = [BLOB, JWT, "s3cr3t-token", "hunter2", "secret-pw", "abc123", "xyz789", "ya29.token", "opaque", "BEGIN RSA"]


def test_every_planted_credential_is_gone_and_the_shape_stays() -> None:
    shown = redact_kubeconfig(KUBECONFIG)
    dumped = json.dumps(shown)
    assert [s for s in SECRETS if s in dumped] == []
    users = {u["name"]: u["user"] for u in shown["users"]}
    assert users["cert"] == {"client-certificate-data": "DATA+OMITTED", "client-key-data": "REDACTED"}
    assert users["tok"] == {"token": "REDACTED", "tokenFile": "/var/run/token"}
    assert users["basic"] == {"username": "alice", "password": "REDACTED"}
    assert users["oidc"]["auth-provider"]["config"]["client-id"] == "kubectl"
    assert users["exec"]["exec"]["args"] == [
        "--cluster",
        "prod",
        "--api-key=REDACTED",
        "--secret",
        "REDACTED",
        "REDACTED",
    ]
    assert users["exec"]["exec"]["env"] == [{"name": "CLOUDSDK_AUTH_ACCESS_TOKEN", "value": "REDACTED"}]
    assert users["odd"]["as"] == "admin"
    clusters = {c["name"]: c["cluster"] for c in shown["clusters"]}
    assert clusters["prod"] == {"server": "https://prod:6443", "certificate-authority-data": "DATA+OMITTED"}
    assert clusters["lab"]["proxy-url"] == "http://REDACTED@proxy:3128"
    assert shown["contexts"] == KUBECONFIG["contexts"]


def test_redaction_leaves_the_input_untouched() -> None:
    before = json.dumps(KUBECONFIG, sort_keys=True)
    redact_kubeconfig(KUBECONFIG)
    assert json.dumps(KUBECONFIG, sort_keys=True) == before


def test_long_names_and_paths_are_not_mistaken_for_secrets() -> None:
    name = "gke_my-project-123456_us-central1-a_my-very-long-cluster-name"
    doc = {"contexts": [{"name": name, "context": {"cluster": name, "user": name}}], "users": []}
    assert redact_kubeconfig(doc)["contexts"][0]["name"] == name


def test_the_view_follows_the_sessions_context_and_minified_keeps_only_it(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(KUBECONFIG))
    contexts = Contexts(Settings(kubeconfig=str(path)))
    minified = contexts.redacted_kubeconfig(minified=True)
    assert [c["name"] for c in minified["contexts"]] == ["prod"]
    assert [u["name"] for u in minified["users"]] == ["cert"] and [c["name"] for c in minified["clusters"]] == ["prod"]
    token = session_id.set("session-a")
    try:
        contexts.switch_session_default("lab")
        switched = contexts.redacted_kubeconfig(minified=True)
    finally:
        session_id.reset(token)
    assert switched["current-context"] == "lab" and [u["name"] for u in switched["users"]] == ["exec"]
    assert contexts.redacted_kubeconfig(minified=False)["current-context"] == "prod"  # no session: the file's
    assert yaml.safe_load(path.read_text())["current-context"] == "prod"


def test_in_cluster_the_view_is_synthesized_from_the_service_account_paths(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "token").write_text("real-service-account-token")
    (tmp_path / "namespace").write_text("tools")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    contexts = Contexts(Settings(in_cluster="true", service_account_dir=str(tmp_path)))
    view = contexts.redacted_kubeconfig(minified=False)
    assert "real-service-account-token" not in json.dumps(view)
    assert view["users"][0]["user"] == {"tokenFile": str(tmp_path / "token")}
    assert view["contexts"][0]["context"]["namespace"] == "tools"
    assert view["clusters"][0]["cluster"]["server"] == "https://10.0.0.1:443"
