"""The start-up credential check (k8s-mcp-preflight, run by entrypoint.sh): one line, never a secret."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from app.__main__ import preflight
from app.kube.preflight import auth_method, loopback_warnings, safe_server

ROOT = Path(__file__).resolve().parents[2]
PLANTED = "planted-Zm9vYmFy-token-4f1c9e"  # must never appear in any output


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("K8S_MCP_", "KUBECONFIG", "MCP_PORT", "KUBERNETES_SERVICE")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def kubeconfig(tmp_path: Path, user: dict[str, object] | None = None, **extra: object) -> Path:
    doc: dict[str, object] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "prod", "cluster": {"server": "https://admin:hunter2@10.1.2.3:6443/?x=1"}}],
        "users": [{"name": "me", "user": user if user is not None else {"token": PLANTED}}],
        "contexts": [{"name": "prod-ctx", "context": {"cluster": "prod", "user": "me", "namespace": "shop"}}],
        "current-context": "prod-ctx",
        **extra,
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = preflight(list(argv))
    captured = capsys.readouterr()
    assert captured.out == "", "stdout belongs to the stdio transport"
    return code, captured.err


def test_a_token_kubeconfig_is_summarised_in_one_line_without_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(capsys, "--kubeconfig", str(kubeconfig(tmp_path)))
    assert code == 0
    first = err.splitlines()[0]
    assert first == (
        f"k8s-mcp: cluster credentials: kubeconfig {tmp_path / 'kubeconfig'}; context prod-ctx; "
        "server https://10.1.2.3:6443/; auth token; namespace shop"
    )
    assert PLANTED not in err and "hunter2" not in err


def test_an_unknown_context_stops_with_the_known_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "--kubeconfig", str(kubeconfig(tmp_path)), "--context", "staging")
    assert code == 1
    assert err.strip() == (
        f"k8s-mcp: cannot start: context 'staging' is not in kubeconfig {tmp_path / 'kubeconfig'}; "
        "known contexts: prod-ctx"
    )


def test_an_unreadable_kubeconfig_stops_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "--kubeconfig", str(tmp_path / "missing"))
    assert code == 1
    assert "cannot start: kubeconfig" in err and "No such file or directory" in err


def test_invalid_yaml_is_reported_by_position_without_quoting_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(f"users:\n- name: me\n  user:\n    token: {PLANTED} : x\n")  # PyYAML quotes this line
    code, err = run(capsys, "--kubeconfig", str(path))
    assert code == 1
    assert "is not valid YAML" in err and "line 4" in err
    assert PLANTED not in err


def test_a_certificate_file_missing_in_the_container_is_named_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = {"client-certificate": "/home/me/.minikube/client.crt", "client-key": "/home/me/.minikube/client.key"}
    code, err = run(capsys, "--kubeconfig", str(kubeconfig(tmp_path, user)))
    assert code == 1
    assert "client-certificate of user 'me': /home/me/.minikube/client.crt cannot be read" in err
    assert "kubectl config view --flatten --minify" in err


def test_an_exec_plugin_missing_from_the_image_stops_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "no-such-auth-plugin", "args": []}}
    code, err = run(capsys, "--kubeconfig", str(kubeconfig(tmp_path, user)))
    assert code == 1
    assert "exec plugin 'no-such-auth-plugin', which is not installed here" in err


def test_no_credentials_at_all_stops_the_start(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys)
    assert code == 1
    assert "no cluster credentials" in err


def test_a_bad_setting_exits_2_before_any_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "--port", "nope")
    assert code == 2
    assert "invalid setting port" in err


def service_account(tmp_path: Path, token: str) -> Path:
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(token)
    (sa / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (sa / "namespace").write_text("tools")
    return sa


def fake_jwt(subject: str) -> str:
    def part(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'sub': subject})}.{PLANTED}"


def test_in_cluster_credentials_name_the_service_account_not_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = fake_jwt("system:serviceaccount:tools:k8s-mcp")
    sa = service_account(tmp_path, token)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    code, err = run(capsys, "--in-cluster", "true", "--service-account-dir", str(sa))
    assert code == 0
    assert err.strip() == (
        f"k8s-mcp: cluster credentials: in-cluster service account ({sa}); context in-cluster; "
        "server https://10.96.0.1:443; auth in-cluster (system:serviceaccount:tools:k8s-mcp); namespace tools"
    )
    assert PLANTED not in err and token not in err


def test_in_cluster_without_a_token_stops_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    code, err = run(capsys, "--in-cluster", "true", "--service-account-dir", str(tmp_path / "none"))
    assert code == 1
    assert "no service account token at" in err and "automountServiceAccountToken" in err


def test_in_cluster_outside_a_pod_stops_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "--in-cluster", "true", "--service-account-dir", str(service_account(tmp_path, "t")))
    assert code == 1
    assert "KUBERNETES_SERVICE_HOST" in err


@pytest.mark.parametrize(
    ("user", "method"),
    [
        ({"token": "x"}, "token"),
        ({"tokenFile": "/var/run/token"}, "token"),
        ({"client-certificate-data": "x", "client-key-data": "y"}, "client-cert"),
        ({"exec": {"command": "/usr/local/bin/aws", "args": ["eks"]}}, "exec (aws)"),
        ({"auth-provider": {"name": "oidc", "config": {"id-token": "x"}}}, "auth-provider (oidc)"),
        ({"username": "u", "password": "p"}, "basic"),
        ({"token": "x", "client-certificate": "c", "client-key": "k"}, "token + client-cert"),
        ({}, "none"),
    ],
)
def test_the_auth_method_is_named_from_the_user_entry(user: dict[str, object], method: str) -> None:
    assert auth_method(user) == method


def test_server_urls_lose_user_info_and_query() -> None:
    assert safe_server("https://u:p@api.example.com:6443/path?token=x#f") == "https://api.example.com:6443/path"
    assert safe_server("https://[::1]:6443") == "https://[::1]:6443"


def test_a_loopback_server_that_answers_is_not_warned_about_in_a_container() -> None:
    """With the host's network (compose `network_mode: host`) the host's cluster answers on loopback."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert loopback_warnings(f"https://127.0.0.1:{port}", in_container=True) == ()
    # The same address with nothing listening any more: the container's own loopback.
    (warning,) = loopback_warnings(f"https://127.0.0.1:{port}", in_container=True)
    assert f"https://127.0.0.1:{port} is a loopback address and nothing answers there" in warning
    assert "network_mode: host" in warning


def test_loopback_is_only_warned_about_inside_a_container() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert loopback_warnings(f"https://127.0.0.1:{closed}", in_container=False) == ()
    assert loopback_warnings("https://10.1.2.3:6443", in_container=True) == ()


def entrypoint(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_MCP_", "KUBECONFIG", "MCP_PORT"))}
    base["PATH"] = f"{ROOT / '.venv' / 'bin'}:{base.get('PATH', '')}"
    return subprocess.run(
        [str(ROOT / "entrypoint.sh"), *args], env={**base, **(env or {})}, capture_output=True, text=True, timeout=60
    )


def test_the_entrypoint_refuses_a_bad_kubeconfig_with_a_clear_line(tmp_path: Path) -> None:
    result = entrypoint("--kubeconfig", str(kubeconfig(tmp_path)), "--context", "nope")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("k8s-mcp: cannot start: context 'nope' is not in kubeconfig")
    assert PLANTED not in result.stderr + result.stdout


def test_the_entrypoint_passes_help_through_and_runs_other_commands() -> None:
    helped = entrypoint("--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage: k8s-mcp")
    other = entrypoint("python", "-c", "print('hello from the image')")
    assert other.returncode == 0 and other.stdout.strip() == "hello from the image"


def test_the_server_reports_a_broken_kubeconfig_without_quoting_it(tmp_path: Path) -> None:
    from app.config import load_settings
    from app.errors import Unavailable
    from app.kube.contexts import Contexts

    path = tmp_path / "kubeconfig"
    path.write_text(f"users:\n- name: me\n  user:\n    token: {PLANTED} : x\n")  # PyYAML quotes this line
    contexts = Contexts(load_settings(["--kubeconfig", str(path)], environ={}))
    with pytest.raises(Unavailable) as caught:
        contexts.all()
    assert "is not valid YAML" in str(caught.value) and PLANTED not in str(caught.value)


def test_passthrough_needs_no_credentials_of_its_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The user entry is ignored (here: a client certificate file that does not exist), the token never read."""
    path = kubeconfig(tmp_path, user={"client-certificate": str(tmp_path / "missing.crt"), "token": PLANTED})
    code, err = run(
        capsys, "--kubeconfig", str(path), "--cluster-auth", "passthrough", "--oidc-issuer", "https://idp.example"
    )
    assert code == 0, err
    assert "auth passthrough (each caller's own bearer token; no credentials of the server's own)" in err
    assert PLANTED not in err


def test_passthrough_in_a_pod_needs_only_the_cluster_ca(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = tmp_path / "cluster"
    cluster.mkdir()
    (cluster / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (cluster / "namespace").write_text("tools")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    argv = ["--in-cluster", "true", "--service-account-dir", str(cluster), "--cluster-auth", "passthrough"]
    code, err = run(capsys, *argv, "--oidc-issuer", "https://idp.example")
    assert code == 0, err
    assert err.strip().endswith(
        "auth passthrough (each caller's own bearer token; no credentials of the server's own); namespace tools"
    )
    (cluster / "ca.crt").unlink()
    code, err = run(capsys, *argv, "--oidc-issuer", "https://idp.example")
    assert code == 1 and "the cluster CA certificate" in err
