"""Per-user access on the real cluster: the provider's users reach the API server as themselves.

Two ways, one RBAC: in two fresh namespaces a Role (pods: get, list, delete) is bound to the group
team-a, respectively team-b, the groups the provider puts in its tokens (alice: team-a, bob: team-b,
carol: none).

- impersonate (``--cluster-auth impersonate``): the server's own credentials plus Impersonate-User
  and Impersonate-Group;
- passthrough (``--cluster-auth passthrough``): the caller's own access token goes to the API server,
  which trusts the rig's provider (rig/cluster.sh: a JWT authenticator in its structured
  authentication configuration). The server's kubeconfig here has the cluster's URL and CA and no
  credentials at all, so anything that works can only have worked as the caller.

Either way the API server decides and its own Forbidden line comes back; sessions and approval tokens
stay with the person they were made for; no token shows up in a log line, an audit line or an error.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
import yaml

from app.kube.client import PASSTHROUGH_REFUSED
from tests.integration.conftest import (
    ACCEPT,
    INIT,
    Kubectl,
    ServerProcess,
    connect,
    rig_bin,
    start_server,
    text_of,
)
from tests.integration.oidc import Provider, read_provider, run_rig
from tests.integration.oidc import token_for as mint
from tests.integration.test_rig import running_pods

pytestmark = pytest.mark.anyio

MODES = ("impersonate", "passthrough")


@dataclass(frozen=True)
class Teams:
    a: str
    b: str


@pytest.fixture(scope="module")
def teams(kubectl: Kubectl) -> Iterator[Teams]:
    suffix = uuid.uuid4().hex[:6]
    found = Teams(f"team-a-{suffix}", f"team-b-{suffix}")
    for namespace, group in ((found.a, "team-a"), (found.b, "team-b")):
        kubectl("create", "namespace", namespace)
        kubectl("create", "role", "pod-admin", "--verb=get,list,delete", "--resource=pods", "-n", namespace)
        kubectl("create", "rolebinding", "pod-admin", "--role=pod-admin", f"--group={group}", "-n", namespace)
        kubectl.wait_until(
            "service account", lambda ns=namespace: kubectl("get", "sa", "default", "-n", ns, check=False)
        )
        kubectl("run", "app", "--image=busybox", "-n", namespace)
    for namespace in (found.a, found.b):
        kubectl.wait_until("the pod runs", lambda ns=namespace: running_pods(kubectl, ns, "run=app") == ["app"])
    yield found
    for namespace in (found.a, found.b):
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def without_credentials(kubeconfig: Path, target: Path) -> Path:
    """The test cluster's kubeconfig with its URL and CA only: one context, no user at all."""
    doc = yaml.safe_load(kubeconfig.read_text())
    context = next(c for c in doc["contexts"] if c["name"] == doc["current-context"])
    cluster = next(c for c in doc["clusters"] if c["name"] == context["context"]["cluster"])
    target.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [cluster],
                "contexts": [{"name": "caller", "context": {"cluster": cluster["name"]}}],
                "current-context": "caller",
            }
        )
    )
    return target


def whoami(kubectl: Kubectl, kubeconfig: Path, token: str) -> str | None:
    """The user name the API server gives ``token`` (SelfSubjectReview), None while it refuses it."""
    result = subprocess.run(
        [kubectl.binary, "--kubeconfig", str(kubeconfig), "--token", token, "auth", "whoami", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        return None
    return str(json.loads(result.stdout)["status"]["userInfo"]["username"])


@pytest.fixture(scope="module")
def bare_kubeconfig(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return without_credentials(kubeconfig, tmp_path_factory.mktemp("bare") / "kubeconfig")


@pytest.fixture(scope="module", params=MODES)
def server(
    request: pytest.FixtureRequest,
    kubeconfig: Path,
    bare_kubeconfig: Path,
    kubectl: Kubectl,
    oidc_provider: Provider,
    teams: Teams,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    mode = str(request.param)
    proc = start_server(
        tmp_path_factory.mktemp(mode),
        "--kubeconfig",
        str(bare_kubeconfig if mode == "passthrough" else kubeconfig),
        "--cluster-auth",
        mode,
        "--oidc-issuer",
        oidc_provider.issuer,
        "--oidc-ca-file",
        str(oidc_provider.ca_file),
        "--enable-destructive-operations",
        "--helm-binary",
        str(rig_bin() / "helm"),
        "--rate-limit",
        "",
    )
    if mode == "passthrough":
        # The API server's JWT authenticator starts in the background: wait until it takes a provider token.
        probe = mint(oidc_provider, "alice", proc.url)["access_token"]
        kubectl.wait_until(
            "the API server accepts the provider's tokens", lambda: whoami(kubectl, bare_kubeconfig, probe)
        )
        assert whoami(kubectl, bare_kubeconfig, probe) == "alice"
    yield proc
    proc.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def forbidden(user: str, verb: str, resource: str, namespace: str) -> str:
    """The API server's own refusal line."""
    where = f'in API group "" in the namespace "{namespace}"'
    return f'{resource} is forbidden: User "{user}" cannot {verb} resource "{resource}" {where}'


def assert_no_token(server: ServerProcess, tokens: list[str], *texts: str) -> None:
    logs = server.logs()
    for token in tokens:
        assert token not in logs
        assert all(token not in text for text in texts)


async def test_each_person_reads_their_teams_pods_and_is_refused_the_others(
    server: ServerProcess, oidc_provider: Provider, teams: Teams
) -> None:
    tokens = {user: mint(oidc_provider, user, server.url)["access_token"] for user in ("alice", "bob", "carol")}
    seen: list[str] = []
    for user, own, other in (("alice", teams.a, teams.b), ("bob", teams.b, teams.a)):
        async with connect(server.url, "auto", bearer(tokens[user])) as client:
            mine = await client.call_tool("pods_list_in_namespace", {"namespace": own})
            theirs = await client.call_tool("pods_list_in_namespace", {"namespace": other})
        seen += [text_of(mine), text_of(theirs)]
        assert not mine.is_error and "app" in text_of(mine), text_of(mine)
        assert theirs.is_error
        assert text_of(theirs) == f"failed to list pods in namespace {other}: {forbidden(user, 'list', 'pods', other)}"

    async with connect(server.url, "auto", bearer(tokens["carol"])) as client:
        for namespace in (teams.a, teams.b):
            refused = await client.call_tool("pods_list_in_namespace", {"namespace": namespace})
            seen.append(text_of(refused))
            assert refused.is_error and forbidden("carol", "list", "pods", namespace) in text_of(refused)
        everywhere = await client.call_tool("pods_list", {})
        seen.append(text_of(everywhere))
        assert everywhere.is_error and 'User "carol" cannot list resource "pods"' in text_of(everywhere)

    audit = [json.loads(line) for line in server.logs().splitlines() if '"tool call"' in line]
    assert {line["identity"] for line in audit} >= {"alice", "bob", "carol"}
    assert_no_token(server, list(tokens.values()), *seen)


async def test_helm_runs_as_the_caller_too(server: ServerProcess, oidc_provider: Provider, teams: Teams) -> None:
    token = mint(oidc_provider, "alice", server.url)["access_token"]
    async with connect(server.url, "auto", bearer(token)) as client:
        listed = await client.call_tool("helm_list", {"namespace": teams.a})
    # Helm keeps releases in Secrets; alice's Role covers pods only, and the API server says so to her.
    assert listed.is_error and 'User "alice" cannot list resource "secrets"' in text_of(listed), text_of(listed)
    assert_no_token(server, [token], text_of(listed))


def test_a_session_opened_by_alice_is_refused_to_bob(server: ServerProcess, oidc_provider: Provider) -> None:
    alice = mint(oidc_provider, "alice", server.url)["access_token"]
    bob = mint(oidc_provider, "bob", server.url)["access_token"]
    opened = httpx2.post(server.url, json=INIT, headers={**ACCEPT, **bearer(alice)}, timeout=30)
    assert opened.status_code == 200
    common = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
    listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    assert httpx2.post(server.url, json=listed, headers={**ACCEPT, **common, **bearer(bob)}).status_code == 404
    assert httpx2.post(server.url, json=listed, headers={**ACCEPT, **common, **bearer(alice)}).status_code == 200
    assert_no_token(server, [alice, bob])


async def test_an_approval_token_minted_for_alice_is_refused_for_bob(
    server: ServerProcess, oidc_provider: Provider, kubectl: Kubectl, teams: Teams
) -> None:
    victim = f"victim-{uuid.uuid4().hex[:4]}"
    kubectl("run", victim, "--image=busybox", "-n", teams.a)
    alice = mint(oidc_provider, "alice", server.url)["access_token"]
    bob = mint(oidc_provider, "bob", server.url)["access_token"]
    arguments = {"name": victim, "namespace": teams.a}
    async with connect(server.url, "auto", bearer(alice)) as client:
        preview = await client.call_tool("pods_delete", arguments)
    assert not preview.is_error and "PREVIEW ONLY" in text_of(preview), text_of(preview)
    approval = re.search(r'approvalToken: "([^"]+)"', text_of(preview))
    assert approval is not None
    async with connect(server.url, "auto", bearer(bob)) as client:
        borrowed = await client.call_tool("pods_delete", {**arguments, "approvalToken": approval.group(1)})
    assert borrowed.is_error and "does not match this call" in text_of(borrowed)
    assert kubectl("get", "pod", victim, "-n", teams.a, "-o", "name").strip() == f"pod/{victim}"
    async with connect(server.url, "auto", bearer(alice)) as client:
        applied = await client.call_tool("pods_delete", {**arguments, "approvalToken": approval.group(1)})
    assert not applied.is_error, text_of(applied)
    assert_no_token(server, [alice, bob], text_of(preview), text_of(borrowed), text_of(applied))


@pytest.fixture(scope="module")
def untrusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """A provider the API server does not trust (its own CA and issuer URL)."""
    directory = tmp_path_factory.mktemp("untrusted-oidc")
    run_rig("up", directory)
    yield read_provider(directory)
    run_rig("clean", directory)


async def test_in_passthrough_the_api_server_decides_and_its_refusal_is_one_clean_line(
    bare_kubeconfig: Path, untrusted: Provider, tmp_path: Path
) -> None:
    """Our server accepts the token (its issuer is configured here); the API server does not know that issuer."""
    proc = start_server(
        tmp_path,
        "--kubeconfig",
        str(bare_kubeconfig),
        "--cluster-auth",
        "passthrough",
        "--oidc-issuer",
        untrusted.issuer,
        "--oidc-ca-file",
        str(untrusted.ca_file),
    )
    try:
        ready = httpx2.get(f"{proc.base}/readyz")  # no credentials of its own, and still ready
        assert ready.status_code == 200 and ready.json()["reason"] == "cluster reachable", ready.text
        token = mint(untrusted, "alice", proc.url)["access_token"]
        async with connect(proc.url, "auto", bearer(token)) as client:
            refused = await client.call_tool("namespaces_list", {})
        assert refused.is_error and text_of(refused) == f"failed to list namespaces: {PASSTHROUGH_REFUSED}"
        assert_no_token(proc, [token], text_of(refused))
    finally:
        proc.stop()
