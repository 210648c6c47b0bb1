"""Settings: precedence CLI > env > file > defaults, and one-line errors naming the bad key."""

from __future__ import annotations

import pytest

from app.config import build_parser, load_settings
from app.errors import ConfigError


def test_defaults_listen_on_8008_with_destructive_operations_off() -> None:
    settings = load_settings([], environ={})
    assert settings.port == 8008
    assert settings.host == "0.0.0.0"
    assert settings.enable_destructive_operations is False
    assert settings.read_only is False


def test_the_users_existing_env_names_are_honoured() -> None:
    settings = load_settings(
        [], environ={"MCP_PORT": "9001", "K8S_ENABLE_DESTRUCTIVE_OPERATIONS": "true", "KUBECONFIG": "/tmp/kc"}
    )
    assert (settings.port, settings.enable_destructive_operations, settings.kubeconfig) == (9001, True, "/tmp/kc")


def test_command_line_beats_env_which_beats_the_config_file(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("port: 7000\nlog-level: debug\nread_only: true\n")
    settings = load_settings(["--config", str(cfg), "--port", "7002"], environ={"MCP_PORT": "7001"})
    assert settings.port == 7002
    assert settings.log_level == "DEBUG"
    assert settings.read_only is True
    assert load_settings(["--config", str(cfg)], environ={"MCP_PORT": "7001"}).port == 7001
    assert load_settings(["--config", str(cfg)], environ={}).port == 7000


def test_a_bad_value_is_one_line_naming_the_setting_and_its_env_var() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings([], environ={"MCP_PORT": "eighty"})
    message = str(info.value)
    assert "port" in message and "MCP_PORT" in message and "\n" not in message


def test_an_unknown_key_in_the_config_file_is_refused(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("prot: 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        load_settings(["--config", str(cfg)], environ={})


def test_comma_lists_from_env_become_tuples() -> None:
    settings = load_settings([], environ={"K8S_MCP_ALLOWED_HOSTS": "a.example, b.example"})
    assert settings.allowed_hosts == ("a.example", "b.example")


def test_help_names_every_settings_env_var() -> None:
    text = build_parser().format_help()
    for env in (
        "MCP_PORT",
        "KUBECONFIG",
        "K8S_ENABLE_DESTRUCTIVE_OPERATIONS",
        "K8S_MCP_READ_ONLY",
        "K8S_MCP_STATELESS",
        "K8S_MCP_JSON_RESPONSE",
        "K8S_MCP_ALLOWED_ORIGINS",
        "K8S_MCP_CONTEXT",
    ):
        assert env in text


def test_settings_are_frozen() -> None:
    settings = load_settings([], environ={})
    with pytest.raises(ValueError):
        settings.port = 1  # type: ignore[misc]


def test_the_state_namespace_must_be_a_namespace_name_and_is_unset_by_default() -> None:
    assert load_settings([], environ={}).state_namespace is None
    assert load_settings([], environ={"K8S_MCP_STATE_NAMESPACE": "k8s-mcp"}).state_namespace == "k8s-mcp"
    with pytest.raises(ConfigError, match="K8S_MCP_STATE_NAMESPACE"):
        load_settings(["--state-namespace", "Not_A_Namespace"], environ={})


def test_cluster_auth_modes_and_the_older_impersonate_switch() -> None:
    issuer = {"K8S_MCP_OIDC_ISSUER": "https://idp.example"}
    assert load_settings([], environ={}).cluster_auth_mode == "server"
    assert load_settings(["--impersonate"], environ=issuer).cluster_auth_mode == "impersonate"
    assert load_settings(["--cluster-auth", "Passthrough"], environ=issuer).cluster_auth_mode == "passthrough"
    assert (
        load_settings([], environ={**issuer, "K8S_MCP_CLUSTER_AUTH": "impersonate"}).cluster_auth_mode == "impersonate"
    )


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (
            ["--cluster-auth", "passthrough"],
            {},
            "invalid settings: cluster_auth passthrough needs authenticated callers",
        ),
        (["--impersonate"], {}, "invalid settings: cluster_auth impersonate needs authenticated callers"),
        (
            ["--impersonate", "--cluster-auth", "passthrough"],
            {"K8S_MCP_AUTH_TOKEN": "t"},
            "invalid settings: impersonate and cluster_auth passthrough exclude each other",
        ),
        (["--cluster-auth", "sideways"], {}, "invalid setting cluster_auth (K8S_MCP_CLUSTER_AUTH): Input should be"),
    ],
)
def test_an_impossible_cluster_auth_is_one_line(argv: list[str], environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(argv, environ=environ)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
