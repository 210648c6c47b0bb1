"""Approval tokens: bound to caller, tool and exact arguments; expire; work once."""

from __future__ import annotations

import pytest

from app.approval import Approvals
from app.errors import PolicyDenied

ARGS = {"name": "web-1", "namespace": "shop"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_approves_exactly_one_identical_call() -> None:
    approvals = Approvals("k", 300)
    token = approvals.mint("alice", "pods_delete", ARGS)
    approvals.redeem(token, "alice", "pods_delete", dict(ARGS, approvalToken=token))
    with pytest.raises(PolicyDenied, match="already used"):
        approvals.redeem(token, "alice", "pods_delete", ARGS)


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
        approvals.redeem(token, caller, tool, args)


def test_an_altered_token_is_refused() -> None:
    approvals = Approvals("k", 300)
    _, _, mac = approvals.mint("alice", "pods_delete", ARGS).partition(".")
    forged_payload = Approvals("k", 99999).mint("alice", "pods_delete", ARGS).partition(".")[0]
    with pytest.raises(PolicyDenied):
        approvals.redeem(f"{forged_payload}.{mac}", "alice", "pods_delete", ARGS)
    with pytest.raises(PolicyDenied, match="malformed"):
        approvals.redeem("garbage", "alice", "pods_delete", ARGS)


def test_a_token_expires() -> None:
    clock = Clock()
    approvals = Approvals("k", 60, clock=clock)
    token = approvals.mint("alice", "pods_delete", ARGS)
    clock.now += 61
    with pytest.raises(PolicyDenied, match="expired"):
        approvals.redeem(token, "alice", "pods_delete", ARGS)


def test_another_server_key_does_not_accept_the_token() -> None:
    token = Approvals("one", 300).mint("alice", "pods_delete", ARGS)
    with pytest.raises(PolicyDenied, match="does not match"):
        Approvals("two", 300).redeem(token, "alice", "pods_delete", ARGS)
