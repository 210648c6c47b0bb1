"""Register the prompts (``app.prompts.catalog``) and argument completion with the SDK.

A prompt's arguments are validated by its own model (one readable line on failure, JSON-RPC -32602)
rather than by the SDK's signature check; rendering runs through ``Served.render`` (audit, metrics,
scrubbing). Completion offers contexts, namespaces, pods, kinds, object names and template names,
read through ``Kube`` under the caller's identity; it is best effort, so any failure (a denied
namespace, an unreachable cluster) yields no suggestions rather than an error. Both run inside the
request scope (``scoping``), like every message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts.base import Message, Prompt, PromptArgument, UserMessage
from mcp.types import Completion, CompletionArgument, CompletionContext, PromptReference, ResourceTemplateReference
from pydantic import ValidationError

from app import errors
from app.config import Settings
from app.documents import objects as documents
from app.prompts.catalog import PromptSpec, all_prompts
from app.prompts.plans import PlanEnv
from app.spec import Deps, ToolSpec
from app.transport.calls import describe_validation_error, redact_arguments
from app.transport.documents import CLUSTER_OBJECT_TEMPLATE, OBJECT_TEMPLATE, TEMPLATE
from app.transport.served import Served

log = logging.getLogger("k8s_mcp.prompts")
MAX_VALUES = 100
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"


def plan_env(settings: Settings, catalog: Sequence[ToolSpec[Any]], offered: Sequence[ToolSpec[Any]]) -> PlanEnv:
    """What plans need to know: the tools they are written for (``catalog``), those offered, approval."""
    return PlanEnv.for_catalog(
        catalog,
        tools=frozenset(spec.name for spec in offered),
        read_only=settings.read_only,
        destructive=settings.enable_destructive_operations,
        approval=settings.approval,
        approval_scope=settings.approval_scope,
        approval_ttl=settings.approval_ttl_seconds,
    )


class SpecPrompt(Prompt):
    """A prompt whose arguments our model validates (the SDK's own check would say less)."""

    async def render(self, arguments: dict[str, Any] | None, context: Any) -> list[Message]:
        render = cast(Callable[[dict[str, Any]], Awaitable[str]], self.fn)
        return [UserMessage(await render(arguments or {}))]


def register_prompts(server: MCPServer, deps: Deps, served: Served, env: PlanEnv) -> None:
    for spec in all_prompts():
        server.add_prompt(_prompt(spec, deps, served, env))


def _prompt(spec: PromptSpec[Any], deps: Deps, served: Served, env: PlanEnv) -> Prompt:
    async def render(arguments: dict[str, Any]) -> str:
        async def work() -> str:
            try:
                args = spec.params.model_validate(arguments)
            except ValidationError as e:
                raise errors.ToolInputError(describe_validation_error(e)) from e
            return await spec.build(args, deps, env)

        return await served.render(spec.name, redact_arguments(arguments), work)

    arguments = [
        PromptArgument(name=name, description=field.description, required=field.is_required())
        for name, field in spec.params.model_fields.items()
    ]
    return SpecPrompt(name=spec.name, title=spec.title, description=spec.description, arguments=arguments, fn=render)


class Completer:
    """Suggestions for prompt arguments and resource-template variables."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def complete(
        self, ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument, context: Any
    ) -> Completion:
        known = dict(context.arguments or {}) if isinstance(context, CompletionContext) else {}
        try:
            values = await self._values(ref, argument.name, known)
        except (errors.K8sMcpError, KeyError, ValueError) as e:
            log.info("no completion for %s: %s", argument.name, e)
            values = []
        prefix = argument.value.lower()
        matched = [v for v in dict.fromkeys(values) if v.lower().startswith(prefix)]
        return Completion(values=matched[:MAX_VALUES], total=len(matched), has_more=len(matched) > MAX_VALUES)

    async def _values(
        self, ref: PromptReference | ResourceTemplateReference, name: str, known: dict[str, str]
    ) -> list[str]:
        uri = ref.uri if isinstance(ref, ResourceTemplateReference) else None
        is_template = uri is not None
        if uri == TEMPLATE and name == "name":
            return list(documents.templates())
        context = known.get("context")
        ctx = None if context in (None, "", documents.CURRENT_CONTEXT) else context
        if name == "context":
            names = [c.name for c in self.deps.kube.contexts.all()]
            return [documents.CURRENT_CONTEXT, *names] if is_template else names
        if name == "namespace":
            extra = [documents.CLUSTER_SEGMENT] if uri == OBJECT_TEMPLATE else []
            return [*await self._namespaces(ctx), *extra]
        if name == "pod" and known.get("namespace"):
            return await self._names("/api/v1/namespaces/{ns}/pods", known["namespace"], ctx)
        objects = uri in (OBJECT_TEMPLATE, CLUSTER_OBJECT_TEMPLATE)
        if objects and name == "kind":
            cluster = uri == CLUSTER_OBJECT_TEMPLATE or known.get("namespace") == documents.CLUSTER_SEGMENT
            served = await self.deps.discovery.kinds.resources(ctx)
            return [r.plural for r in served if r.namespaced != cluster]
        if objects and name == "name" and known.get("kind"):
            resource = await self.deps.discovery.lookup(known["kind"], context=ctx)
            ns = known.get("namespace")
            scoped = ns if resource.namespaced and ns and ns != documents.CLUSTER_SEGMENT else None
            if resource.namespaced and scoped is None:
                return []
            return await self._names(resource.path(scoped), None, ctx)
        return []

    async def _namespaces(self, ctx: str | None) -> list[str]:
        settings = self.deps.settings
        if settings.allowed_namespaces:
            return list(settings.allowed_namespaces)
        names = await self._names("/api/v1/namespaces", None, ctx)
        return [n for n in names if n not in settings.denied_namespaces]

    async def _names(self, path: str, namespace: str | None, ctx: str | None) -> list[str]:
        if namespace is not None:
            path = path.format(ns=namespace)
        listed = await self.deps.kube.get_json(path, context=ctx, query={"limit": 500}, accept=METADATA_ONLY)
        return sorted(str((i.get("metadata") or {}).get("name")) for i in listed.get("items") or [])


def register_completions(server: MCPServer, deps: Deps) -> None:
    completer = Completer(deps)

    async def complete(ref: Any, argument: Any, context: Any) -> Completion:
        return await completer.complete(ref, argument, context)

    server.completion()(complete)  # type: ignore[no-untyped-call]
