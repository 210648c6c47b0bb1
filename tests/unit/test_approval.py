"""Approval tokens: bound to caller, tool and exact arguments; expire; work once."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.server.request_state import InvalidRequestState

from app.approval import Approvals
from app.config import Settings
from app.errors import PolicyDenied, Unavailable
from app.transport.mcp_server import request_state_security

ARGS = {"name": "web-1", "namespace": "shop"}


def redeem(approvals: Approvals, token: str, caller: str, tool: str, args: dict[str, Any]) -> None:
    anyio.run(approvals.redeem, token, caller, tool, args)


class SharedLedger:
    """Spent nonces held in one dict that several Approvals (replicas) share; ``down`` makes it fail."""

    def __init__(self) -> None:
        self.spent: dict[str, int] = {}
        self.asked = 0
        self.down = False

    async def spend(self, nonce: str, expires_at: int) -> bool:
        self.asked += 1
        if self.down:
            raise Unavailable("cannot reach the API server at https://127.0.0.1:1: connection refused")
        if nonce in self.spent:
            return False
        self.spent[nonce] = expires_at
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_approves_exactly_one_identical_call() -> None:
    approvals = Approvals("k", 300)
    token = approvals.mint("alice", "pods_delete", ARGS)
    redeem(approvals, token, "alice", "pods_delete", dict(ARGS, approvalToken=token))
    with pytest.raises(PolicyDenied, match="already used"):
        redeem(approvals, token, "alice", "pods_delete", ARGS)


@pytest.mark.parametrize(
    ("caller", "tool", "args"),
    [
        ("mallory", "pods_delete", ARGS),
        ("alice", "resources_delete", ARGS),
        ("alice", "pods_delete", {"name": "web-2", "namespace": "shop"}),
        ("alice", "pods_delete", {**ARGS, "gracePeriodSeconds": 0}),
    ],
)
def test_a_token_does_not_transfer_to_another_caller_tool_or_arguments(caller: str, tool: str, args: dict) -> None:
    approvals = Approvals("k", 300)
    token = approvals.mint("alice", "pods_delete", ARGS)
    with pytest.raises(PolicyDenied, match="does not match"):
        redeem(approvals, token, caller, tool, args)


def test_an_altered_token_is_refused() -> None:
    approvals = Approvals("k", 300)
    _, _, mac = approvals.mint("alice", "pods_delete", ARGS).partition(".")
    forged_payload = Approvals("k", 99999).mint("alice", "pods_delete", ARGS).partition(".")[0]
    with pytest.raises(PolicyDenied):
        redeem(approvals, f"{forged_payload}.{mac}", "alice", "pods_delete", ARGS)
    with pytest.raises(PolicyDenied, match="malformed"):
        redeem(approvals, "garbage", "alice", "pods_delete", ARGS)


def test_a_token_expires() -> None:
    clock = Clock()
    approvals = Approvals("k", 60, clock=clock)
    token = approvals.mint("alice", "pods_delete", ARGS)
    clock.now += 61
    with pytest.raises(PolicyDenied, match="expired"):
        redeem(approvals, token, "alice", "pods_delete", ARGS)


def test_another_server_key_does_not_accept_the_token() -> None:
    token = Approvals("one", 300).mint("alice", "pods_delete", ARGS)
    with pytest.raises(PolicyDenied, match="does not match"):
        redeem(Approvals("two", 300), token, "alice", "pods_delete", ARGS)


def test_replicas_sharing_the_approval_secret_unseal_each_others_request_state() -> None:
    """2026-07-28 elicitation state sealed on one replica is honoured by another with the same secret."""
    one = request_state_security(Settings(approval_secret="shared-secret-0123456789"))
    two = request_state_security(Settings(approval_secret="shared-secret-0123456789"))
    other = request_state_security(Settings(approval_secret="another-secret-0123456789"))
    assert one is not None and two is not None and other is not None
    sealed = one.codec.seal(b"asked")
    assert two.codec.unseal(sealed) == b"asked"
    with pytest.raises(InvalidRequestState):
        other.codec.unseal(sealed)
    assert request_state_security(Settings()) is None  # the SDK's per-process key


def test_a_token_spent_on_one_replica_is_refused_on_another_sharing_the_ledger() -> None:
    ledger = SharedLedger()
    one, two = Approvals("k", 300, ledger=ledger), Approvals("k", 300, ledger=ledger)
    token = one.mint("alice", "pods_delete", ARGS)
    redeem(two, token, "alice", "pods_delete", ARGS)
    with pytest.raises(PolicyDenied, match="already used"):
        redeem(one, token, "alice", "pods_delete", ARGS)
    assert len(ledger.spent) == 1


def test_a_replay_on_the_same_replica_is_refused_from_memory_without_asking_the_ledger() -> None:
    ledger = SharedLedger()
    approvals = Approvals("k", 300, ledger=ledger)
    token = approvals.mint("alice", "pods_delete", ARGS)
    redeem(approvals, token, "alice", "pods_delete", ARGS)
    with pytest.raises(PolicyDenied, match="already used"):
        redeem(approvals, token, "alice", "pods_delete", ARGS)
    assert ledger.asked == 1


def test_an_unreachable_ledger_fails_closed_in_one_line_and_the_token_stays_usable() -> None:
    ledger = SharedLedger()
    approvals = Approvals("k", 300, ledger=ledger)
    token = approvals.mint("alice", "pods_delete", ARGS)
    ledger.down = True
    with pytest.raises(PolicyDenied) as refused:
        redeem(approvals, token, "alice", "pods_delete", ARGS)
    message = str(refused.value)
    assert "could not be recorded as spent, so the change was not made" in message
    assert "connection refused" in message and "\n" not in message
    ledger.down = False
    redeem(approvals, token, "alice", "pods_delete", ARGS)  # nothing ran, so the approval still counts once
    with pytest.raises(PolicyDenied, match="already used"):
        redeem(approvals, token, "alice", "pods_delete", ARGS)
