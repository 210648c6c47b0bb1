"""Approval of changes: confirm tokens (and attempts to reuse or bend them), elicitation, read-only mode."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitResult

from tests.integration.conftest import Kubectl, ServerProcess, connect, jsonrpc_message, start_server, text_of

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def guarded(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Destructive tools on, approval at its default (confirm), two static identities."""
    tmp = tmp_path_factory.mktemp("guarded")
    tokens = tmp / "tokens.csv"
    tokens.write_text("alice-token-0123456789,alice\nbob-token-0123456789,bob\n")
    proc = start_server(
        tmp,
        "--kubeconfig",
        str(kubeconfig),
        "--enable-destructive-operations",
        "--auth-tokens-file",
        str(tokens),
        "--rate-limit",
        "",
    )
    yield proc
    proc.stop()


ALICE = {"Authorization": "Bearer alice-token-0123456789"}
BOB = {"Authorization": "Bearer bob-token-0123456789"}


def delete_args(namespace: str, name: str = "doomed") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "name": name, "namespace": namespace}


def exists(kubectl: Kubectl, namespace: str, name: str = "doomed") -> bool:
    return name in kubectl("get", "configmap", "-n", namespace, "-o", "name", check=False)


def token_of(result: Any) -> str:
    text = text_of(result)
    assert "approvalToken" in text, text
    return text.split('approvalToken: "')[1].split('"')[0]


async def test_a_destructive_call_previews_first_and_runs_only_with_its_token(
    guarded: ServerProcess, kubectl: Kubectl, namespace: str, era: str
) -> None:
    kubectl("create", "configmap", "doomed", "-n", namespace)
    async with connect(guarded.url, era, ALICE) as client:
        preview = await client.call_tool("resources_delete", delete_args(namespace))
        assert not preview.is_error and text_of(preview).startswith("PREVIEW ONLY, nothing was changed")
        assert exists(kubectl, namespace), "the preview deleted the object"
        token = token_of(preview)
        done = await client.call_tool("resources_delete", {**delete_args(namespace), "approvalToken": token})
        assert not done.is_error, text_of(done)
        kubectl.wait_until("deleted", lambda: not exists(kubectl, namespace))

        kubectl("create", "configmap", "doomed", "-n", namespace)
        replayed = await client.call_tool("resources_delete", {**delete_args(namespace), "approvalToken": token})
        assert replayed.is_error and "already used" in text_of(replayed)
        assert exists(kubectl, namespace)


async def test_a_token_does_not_approve_other_arguments_or_another_caller(
    guarded: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    for name in ("doomed", "precious"):
        kubectl("create", "configmap", name, "-n", namespace)
    async with connect(guarded.url, "auto", ALICE) as alice:
        token = token_of(await alice.call_tool("resources_delete", delete_args(namespace)))
        altered = await alice.call_tool(
            "resources_delete", {**delete_args(namespace, "precious"), "approvalToken": token}
        )
        forged = await alice.call_tool("resources_delete", {**delete_args(namespace), "approvalToken": token + "x"})
    async with connect(guarded.url, "auto", BOB) as bob:
        borrowed = await bob.call_tool("resources_delete", {**delete_args(namespace), "approvalToken": token})
    for result in (altered, forged, borrowed):
        assert result.is_error and "does not match this call" in text_of(result), text_of(result)
        assert "\n" not in text_of(result)
    assert exists(kubectl, namespace, "precious") and exists(kubectl, namespace, "doomed")


async def test_the_change_is_audited_with_identity_preview_and_outcome(
    guarded: ServerProcess, kubectl: Kubectl, namespace: str
) -> None:
    kubectl("create", "configmap", "doomed", "-n", namespace)
    async with connect(guarded.url, "auto", ALICE) as client:
        token = token_of(await client.call_tool("resources_delete", delete_args(namespace)))
        await client.call_tool("resources_delete", {**delete_args(namespace), "approvalToken": token})
    audit = [
        json.loads(line)
        for line in guarded.logs().splitlines()
        if '"tool call"' in line and namespace in line and "resources_delete" in line
    ]
    outcomes = [(line["identity"], line["outcome"], line.get("approval")) for line in audit]
    assert ("alice", "previewed", None) in outcomes and ("alice", "ok", "token") in outcomes
    assert all(line["arguments"].get("approvalToken") in (None, "<redacted>") for line in audit)
    assert all(line.get("result") for line in audit)


async def test_without_the_destructive_switch_destructive_tools_do_not_exist(server: ServerProcess) -> None:
    async with connect(server.url, "auto") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("resources_delete", {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"})
    assert not names & {"resources_delete", "pods_delete", "pods_exec", "resources_scale", "helm_uninstall"}
    assert result.is_error


async def test_read_only_mode_offers_no_write_tool_and_refuses_them(
    kubeconfig: Path, tmp_path: Path, namespace: str
) -> None:
    proc = start_server(tmp_path, "--kubeconfig", str(kubeconfig), "--read-only", "--enable-destructive-operations")
    try:
        async with connect(proc.url, "auto") as client:
            tools = (await client.list_tools()).tools
            attempt = await client.call_tool(
                "resources_create_or_update",
                {"resource": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: sneaky, namespace: {namespace}}}\n"},
            )
        assert tools and all(tool.annotations.read_only_hint for tool in tools)
        assert attempt.is_error
    finally:
        proc.stop()


@contextlib.asynccontextmanager
async def eliciting_client(url: str, mode: str, answer: str) -> AsyncIterator[Client]:
    async def on_elicit(context: Any, params: Any) -> ElicitResult:
        if answer == "accept":
            return ElicitResult(action="accept", content={"approve": True})
        return ElicitResult(action=answer)

    async with (
        httpx2.AsyncClient(timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode, elicitation_callback=on_elicit) as client,
    ):
        yield client


async def test_elicit_mode_asks_the_human_and_refuses_when_it_cannot(
    kubeconfig: Path, kubectl: Kubectl, tmp_path: Path, namespace: str
) -> None:
    proc = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), "--enable-destructive-operations", "--approval", "elicit"
    )
    try:
        kubectl("create", "configmap", "doomed", "-n", namespace)
        async with eliciting_client(proc.url, "legacy", "decline") as client:
            declined = await client.call_tool("resources_delete", delete_args(namespace))
        assert declined.is_error and "not approved" in text_of(declined)
        assert exists(kubectl, namespace)

        async with connect(proc.url, "legacy") as client:  # no elicitation capability
            unasked = await client.call_tool("resources_delete", delete_args(namespace))
        assert unasked.is_error and "cannot ask" in text_of(unasked)
        assert exists(kubectl, namespace)

        async with eliciting_client(proc.url, "legacy", "accept") as client:
            accepted = await client.call_tool("resources_delete", delete_args(namespace))
        assert not accepted.is_error, text_of(accepted)
        kubectl.wait_until("deleted", lambda: not exists(kubectl, namespace))
    finally:
        proc.stop()


async def test_elicit_mode_asks_a_stateless_client_with_an_input_required_round(
    kubeconfig: Path, kubectl: Kubectl, tmp_path: Path, namespace: str
) -> None:
    """On 2026-07-28 the question travels as an InputRequiredResult; the client's retry carries the answer."""
    proc = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), "--enable-destructive-operations", "--approval", "elicit"
    )
    try:
        kubectl("create", "configmap", "doomed", "-n", namespace)
        async with eliciting_client(proc.url, "auto", "decline") as client:
            result = await client.call_tool("resources_delete", delete_args(namespace))
        assert result.is_error and "not approved" in text_of(result)
        assert exists(kubectl, namespace)
        async with connect(proc.url, "auto") as client:  # no elicitation capability
            result = await client.call_tool("resources_delete", delete_args(namespace))
        assert result.is_error and "cannot ask" in text_of(result)
        assert exists(kubectl, namespace)
        async with eliciting_client(proc.url, "auto", "accept") as client:
            result = await client.call_tool("resources_delete", delete_args(namespace))
        assert not result.is_error, text_of(result)
        kubectl.wait_until("deleted", lambda: not exists(kubectl, namespace))
    finally:
        proc.stop()
    audit = [json.loads(line) for line in proc.log_path.read_text().splitlines() if '"tool call"' in line]
    outcomes = [(a.get("outcome"), a.get("approval")) for a in audit if a.get("tool") == "resources_delete"]
    assert ("asked", None) in outcomes and ("ok", "elicited") in outcomes, outcomes


async def test_a_forged_answer_without_the_sealed_question_is_not_an_approval(
    kubeconfig: Path, kubectl: Kubectl, tmp_path: Path, namespace: str
) -> None:
    """A 2026 client that sends an 'accept' it was never asked for (no sealed requestState) is asked instead."""
    proc = start_server(
        tmp_path, "--kubeconfig", str(kubeconfig), "--enable-destructive-operations", "--approval", "elicit"
    )
    try:
        kubectl("create", "configmap", "doomed", "-n", namespace)
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {
                "name": "resources_delete",
                "arguments": delete_args(namespace),
                "inputResponses": {"approval": {"action": "accept", "content": {"approve": True}}},
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
                    "io.modelcontextprotocol/clientInfo": {"name": "forger", "version": "1"},
                },
            },
        }
        headers = {
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
            "mcp-protocol-version": "2026-07-28",
            "mcp-method": "tools/call",
            "mcp-name": "resources_delete",
        }
        response = httpx2.post(proc.url, json=body, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        payload = jsonrpc_message(response.text)
        assert payload["result"].get("resultType") == "input_required", payload
        body["params"]["requestState"] = "v1.forged-state-the-server-never-sealed"
        response = httpx2.post(proc.url, json=body, headers=headers, timeout=30)
        assert "error" in jsonrpc_message(response.text), response.text
        assert exists(kubectl, namespace)
    finally:
        proc.stop()
