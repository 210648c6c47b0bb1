"""Argument validation: clear one-line messages for what a model gets wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.tools.pods.pods import PodsGetArgs, PodsListInNamespaceArgs
from app.tools.resources.generic import ResourcesListArgs
from app.transport.calls import describe_validation_error


def _message(model: type, **kwargs: object) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(kwargs)
    return describe_validation_error(info.value)


def test_a_missing_required_argument_is_named() -> None:
    assert _message(PodsGetArgs) == "missing required argument 'name'"


def test_an_unknown_argument_is_refused_not_ignored() -> None:
    assert _message(PodsGetArgs, name="x", nmespace="y") == "unknown argument 'nmespace'"


def test_a_malformed_selector_is_refused_before_reaching_the_cluster() -> None:
    message = _message(PodsListInNamespaceArgs, namespace="default", labelSelector="app==(web")
    assert message.startswith("invalid argument 'labelSelector': malformed selector")


@pytest.mark.parametrize("selector", ["app=web", "app!=web,tier", "env in (a, b),!canary", "a.b/c==d"])
def test_valid_selectors_pass(selector: str) -> None:
    PodsListInNamespaceArgs.model_validate({"namespace": "default", "labelSelector": selector})


def test_a_namespace_must_be_a_dns_label() -> None:
    assert "invalid namespace 'Bad_NS'" in _message(PodsListInNamespaceArgs, namespace="Bad_NS")


def test_continue_is_spelled_as_on_the_wire() -> None:
    args = ResourcesListArgs.model_validate({"apiVersion": "v1", "kind": "Pod", "continue": "abc"})
    assert args.continue_ == "abc"
