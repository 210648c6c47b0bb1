"""The approval ledger on the real control plane: spent nonces as Leases in the state namespace.

A token spent on one replica is refused on every other; the record is written with the server's own
credentials (the caller, impersonated for the change itself, could not write it); expired records are
swept in bounded pages; and when the ledger cannot be written the approval fails closed in one line.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from app.config import Settings
from app.kube.client import Kube
from app.kube.ledger import EXPIRES_ANNOTATION, NAME_PREFIX, RECORD_LABEL, SKEW_MARGIN, LeaseLedger
from app.observability import Metrics
from app.policy import Policy
from tests.integration.conftest import Kubectl, ServerProcess, connect, start_server, text_of
from tests.integration.test_approval import delete_args, exists, token_of

pytestmark = pytest.mark.anyio

SECRET = "ledger-test-shared-approval-key-0123456789"
ALICE = {"Authorization": "Bearer alice-token-0123456789"}


@pytest.fixture
def state_namespace(kubectl: Kubectl) -> Iterator[str]:
    name = f"state-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def records(kubectl: Kubectl, namespace: str) -> list[dict[str, object]]:
    listed = kubectl("get", "leases", "-n", namespace, "-l", f"{RECORD_LABEL}=approval-nonce", "-o", "json")
    items: list[dict[str, object]] = json.loads(listed)["items"]
    return items


async def test_a_token_spent_on_one_replica_is_refused_on_another_and_recorded_with_the_servers_credentials(
    kubeconfig: Path, kubectl: Kubectl, tmp_path: Path, namespace: str, state_namespace: str
) -> None:
    # alice may touch ConfigMaps in the work namespace and nothing in the state namespace.
    kubectl("create", "role", "cm-editor", "--verb=get,list,delete", "--resource=configmaps", "-n", namespace)
    kubectl("create", "rolebinding", "cm-editor", "--role=cm-editor", "--user=alice", "-n", namespace)
    assert (
        kubectl("auth", "can-i", "create", "leases", "-n", state_namespace, "--as", "alice", check=False).strip()
        == "no"
    )
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("alice-token-0123456789,alice\n")
    args = ["--kubeconfig", str(kubeconfig), "--enable-destructive-operations", "--impersonate"]
    args += ["--auth-tokens-file", str(tokens), "--approval-secret", SECRET, "--state-namespace", state_namespace]
    one, two = start_server(tmp_path, *args), start_server(tmp_path, *args)
    try:
        kubectl("create", "configmap", "doomed", "-n", namespace)
        async with connect(one.url, "auto", ALICE) as client:
            token = token_of(await client.call_tool("resources_delete", delete_args(namespace)))
        async with connect(two.url, "auto", ALICE) as client:
            done = await client.call_tool("resources_delete", {**delete_args(namespace), "approvalToken": token})
        assert not done.is_error, text_of(done)
        kubectl.wait_until("deleted", lambda: not exists(kubectl, namespace))
        kubectl("create", "configmap", "doomed", "-n", namespace)
        async with connect(one.url, "auto", ALICE) as client:
            replay = await client.call_tool("resources_delete", {**delete_args(namespace), "approvalToken": token})
        assert replay.is_error and "already used" in text_of(replay), text_of(replay)
        assert exists(kubectl, namespace)
    finally:
        one.stop()
        two.stop()
    [record] = records(kubectl, state_namespace)
    meta = record["metadata"]
    assert isinstance(meta, dict) and meta["name"].startswith(NAME_PREFIX)
    assert int(meta["annotations"][EXPIRES_ANNOTATION]) > time.time()
    ledger_calls = [
        json.loads(line)
        for server in (one, two)
        for line in server.logs().splitlines()
        if '"purpose": "approval-ledger"' in line
    ]
    # One create per redemption (each replica's sweeps aside): 201 on the replica that ran the change,
    # 409 AlreadyExists on the one that refused the replay.
    assert sorted(c["status"] for c in ledger_calls if c["verb"] == "POST") == ["201", "409"]


def in_process_ledger(kubeconfig: Path, namespace: str, clock: list[float], page: int) -> LeaseLedger:
    """The ledger as a server builds it, against the real API server, with a clock the test moves."""
    settings = Settings(kubeconfig=str(kubeconfig), state_namespace=namespace)
    metrics = Metrics()
    kube = Kube(settings, metrics, Policy(read_only=False, allow_destructive=True))
    return LeaseLedger(kube, namespace, metrics, clock=lambda: clock[0], page=page)


async def test_expired_records_are_swept_in_bounded_pages_by_whichever_replica_comes_first(
    kubeconfig: Path, kubectl: Kubectl, state_namespace: str
) -> None:
    clock = [time.time()]
    one = in_process_ledger(kubeconfig, state_namespace, clock, page=3)
    two = in_process_ledger(kubeconfig, state_namespace, clock, page=3)
    expired = [uuid.uuid4().hex for _ in range(5)]
    live = [uuid.uuid4().hex for _ in range(2)]
    for nonce in expired:
        assert await one.spend(nonce, int(clock[0]) + 60)
    clock[0] += 60 + SKEW_MARGIN + 1  # those tokens expired, and the skew margin has passed too
    for nonce in live:
        assert await two.spend(nonce, int(clock[0]) + 300)
    assert not await two.spend(expired[0], int(clock[0]) + 60)  # still recorded: a replay until swept
    foreign = "not-an-approval-record"
    kubectl.apply(f"apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {{name: {foreign}}}\n", state_namespace)

    removed: list[int] = []
    for ledger in (one, two, one, two, one, two):
        removed.append(await ledger.sweep())
    assert all(n <= 3 for n in removed), removed  # never more than one page per sweep
    assert sum(removed) == 5, removed
    left = {r["metadata"]["name"] for r in records(kubectl, state_namespace)}  # type: ignore[index]
    assert left == {NAME_PREFIX + n for n in live}
    assert foreign in kubectl("get", "leases", "-n", state_namespace, "-o", "name")


def kubeconfig_with_a_dead_default(kubeconfig: Path, tmp_path: Path) -> tuple[Path, str]:
    """A kubeconfig whose current context points at a closed loopback port; the real one stays reachable by name."""
    doc = yaml.safe_load(kubeconfig.read_text())
    real = doc["current-context"]
    context = next(c for c in doc["contexts"] if c["name"] == real)["context"]
    cluster = next(c for c in doc["clusters"] if c["name"] == context["cluster"])["cluster"]
    doc["clusters"].append({"name": "dead", "cluster": {**cluster, "server": "https://127.0.0.1:1"}})
    doc["contexts"].append({"name": "dead", "context": {**context, "cluster": "dead"}})
    doc["current-context"] = "dead"
    path = tmp_path / "two-contexts.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path, real


async def test_an_unreachable_ledger_fails_closed_with_one_clear_line(
    kubeconfig: Path, kubectl: Kubectl, tmp_path: Path, namespace: str
) -> None:
    """The ledger lives in the server's default context; here that cluster is down while the one the
    change targets is up: the preview works, the approval cannot be recorded, nothing is changed."""
    config, real = kubeconfig_with_a_dead_default(kubeconfig, tmp_path)
    server = start_server(tmp_path, "--kubeconfig", str(config), "--enable-destructive-operations")
    try:
        kubectl("create", "configmap", "doomed", "-n", namespace)
        target = {**delete_args(namespace), "context": real}
        async with connect(server.url, "auto") as client:
            token = token_of(await client.call_tool("resources_delete", target))
            refused = await client.call_tool("resources_delete", {**target, "approvalToken": token})
        text = text_of(refused)
        assert refused.is_error and len(text.splitlines()) == 1, text
        assert text.startswith(f"failed to delete ConfigMap {namespace}/doomed: the approval could not be recorded")
        assert "so the change was not made" in text and "127.0.0.1:1" in text
        assert "Traceback" not in server.logs()
        assert exists(kubectl, namespace)
    finally:
        server.stop()


async def test_a_missing_state_namespace_is_named_in_the_refusal(
    kubeconfig: Path, kubectl: Kubectl, tmp_path: Path, namespace: str
) -> None:
    missing = f"gone-{uuid.uuid4().hex[:8]}"
    server = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), "--enable-destructive-operations", "--state-namespace", missing
    )
    try:
        kubectl("create", "configmap", "doomed", "-n", namespace)
        async with connect(server.url, "auto") as client:
            token = token_of(await client.call_tool("resources_delete", delete_args(namespace)))
            refused = await client.call_tool("resources_delete", {**delete_args(namespace), "approvalToken": token})
        assert refused.is_error and f"the state namespace '{missing}' does not exist" in text_of(refused)
        assert len(text_of(refused).splitlines()) == 1
        assert exists(kubectl, namespace)
    finally:
        server.stop()


def test_a_server_names_its_ledger_at_start_and_stops_its_sweeper_cleanly(kubeconfig: Path, tmp_path: Path) -> None:
    server: ServerProcess = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--enable-destructive-operations")
    try:
        assert '"approval_ledger": "Leases in namespace default"' in server.logs()
    finally:
        assert server.stop() == 0, server.logs()[-2000:]
