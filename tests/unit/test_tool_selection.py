"""Which tools a deployment exposes: profile, toolsets, enabled/disabled lists, then policy."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.config import load_settings
from app.errors import ConfigError
from app.policy import TOOLSETS, Policy, select_tools
from app.tools.catalog import all_specs, exposed_specs


@dataclass(frozen=True)
class Tool:
    name: str
    toolset: str
    read_only: bool = True
    destructive: bool = False


CATALOG = [
    Tool("pods_list", "core"),
    Tool("pods_exec", "core", read_only=False, destructive=True),
    Tool("pods_run", "core", read_only=False),
    Tool("configuration_view", "config"),
    Tool("pods_top", "metrics"),
    Tool("helm_list", "helm"),
]


def names(selection) -> list[str]:
    return [t.name for t in selection.tools]


def test_the_selected_toolsets_decide_when_no_tool_list_is_given() -> None:
    chosen = select_tools(CATALOG, policy=Policy(allow_destructive=True), toolsets=["core", "metrics"])
    assert names(chosen) == ["pods_list", "pods_exec", "pods_run", "pods_top"]


def test_enabled_tools_are_the_exact_list_whatever_their_toolset() -> None:
    chosen = select_tools(CATALOG, policy=Policy(), toolsets=["core"], enabled=["helm_list", "pods_list"])
    assert names(chosen) == ["pods_list", "helm_list"]


def test_disabled_tools_always_go_and_policy_applies_last() -> None:
    chosen = select_tools(
        CATALOG, policy=Policy(read_only=True), toolsets=["core", "config"], disabled=["configuration_view"]
    )
    assert names(chosen) == ["pods_list"]


def test_an_enabled_tool_that_policy_hides_is_reported_as_withheld() -> None:
    chosen = select_tools(CATALOG, policy=Policy(), toolsets=["core"], enabled=["pods_exec", "pods_list"])
    assert names(chosen) == ["pods_list"] and chosen.withheld == ["pods_exec"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"toolsets": ["core", "kitchen"]}, "unknown toolset 'kitchen'; known toolsets: core, config, metrics, helm"),
        (
            {"toolsets": ["core"], "enabled": ["pods_fly"]},
            "enabled_tools (K8S_MCP_ENABLED_TOOLS): unknown tool 'pods_fly'",
        ),
        ({"toolsets": ["core"], "disabled": ["nope"]}, "disabled_tools (K8S_MCP_DISABLED_TOOLS): unknown tool 'nope'"),
        ({"toolsets": ["core"], "enabled": ["pods_list"], "disabled": ["pods_list"]}, "both in enabled_tools"),
    ],
)
def test_unknown_or_contradictory_names_are_a_start_up_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        select_tools(CATALOG, policy=Policy(), **kwargs)
    assert message in str(info.value)


def test_settings_take_comma_lists_from_env_and_flags() -> None:
    settings = load_settings(
        ["--disabled-tools", "pods_log, pods_top"],
        environ={
            "K8S_MCP_TOOLSETS": "core,helm",
            "K8S_MCP_ENABLED_TOOLS": "pods_list",
            "K8S_MCP_TOOL_PROFILE": "Infra",
        },
    )
    assert settings.toolsets == ("core", "helm")
    assert settings.enabled_tools == ("pods_list",)
    assert settings.disabled_tools == ("pods_log", "pods_top")
    assert settings.tool_profile == "infra"
    assert load_settings([], environ={}).toolsets == ("core", "config", "metrics", "helm")


def test_every_tool_is_in_a_known_toolset_and_names_are_unique_per_profile() -> None:
    for profile in ("default", "infra"):
        specs = all_specs(profile)
        assert all(s.toolset in TOOLSETS for s in specs), profile
        assert len({s.name for s in specs}) == len(specs), profile


def test_the_infra_profile_has_exactly_the_users_tool_names_over_the_same_handlers() -> None:
    assert [s.name for s in all_specs("infra")] == [
        "getContexts",
        "getCurrentContext",
        "switchContext",
        "listPods",
        "getPod",
        "getPodLogs",
        "deletePod",
        "listDeployments",
        "scaleDeployment",
        "applyManifest",
        "getMetrics",
        "listReleases",
        "installChart",
        "upgradeChart",
        "uninstallRelease",
    ]
    default = {s.name: s for s in all_specs("default")}
    infra = {s.name: s for s in all_specs("infra")}
    for ours, theirs in (
        ("deletePod", "pods_delete"),
        ("getPod", "pods_get"),
        ("getPodLogs", "pods_log"),
        ("scaleDeployment", "resources_scale"),
        ("applyManifest", "resources_create_or_update"),
        ("listReleases", "helm_list"),
        ("uninstallRelease", "helm_uninstall"),
    ):
        assert (infra[ours].read_only, infra[ours].destructive) == (
            default[theirs].read_only,
            default[theirs].destructive,
        )


def test_the_default_catalog_hides_destructive_tools_unless_enabled() -> None:
    settings = load_settings([], environ={})
    hidden = names(exposed_specs(Policy(), settings))
    shown = names(exposed_specs(Policy(allow_destructive=True), settings))
    assert "pods_exec" not in hidden and "pods_delete" not in hidden
    assert {"pods_exec", "pods_delete", "pods_log", "configuration_view", "pods_top"} <= set(shown)
