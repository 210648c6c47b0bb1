"""The infra.k8s tool catalog (``--tool-profile infra``): its tool names over our handlers.

Every tool here is a thin argument adapter: it renames or reshapes the arguments of the infra.k8s
catalog (getPodLogs's tail=-1, listPods's allNamespaces, ...) and calls the same handler the
default profile uses, so behaviour, errors, redaction and caps are identical. switchContext changes
the default context of the calling MCP session only (kept in memory by app.kube.contexts), never a
file. getMetrics summarizes this server's own counters (app.tools.infra.server_metrics); the Helm tools
are in app.tools.infra.helm.
"""

from __future__ import annotations

from typing import Any

import anyio
from pydantic import Field

from app import args as p
from app import errors
from app.scope import dry_run_active
from app.shapes import (
    ActionOutput,
    ApplyOutput,
    ContextItem,
    ContextsOutput,
    LogOutput,
    ObjectOutput,
    ScaleOutput,
    ServerMetricsOutput,
    TableOutput,
)
from app.spec import Deps, ToolResult, ToolSpec
from app.tools.cluster import cluster
from app.tools.infra import helm as infra_helm
from app.tools.infra.server_metrics import read_registry, summarize_metrics
from app.tools.pods import containers, pods
from app.tools.resources import apply, generic
from app.tools.workloads import workloads


class NoArgs(p.Args):
    pass


class SwitchContextArgs(p.Args):
    contextName: str = Field(min_length=1, description="Context to use by default for the rest of this MCP session")


class ListPodsArgs(p.Args):
    namespace: p.OptionalNamespace = None
    allNamespaces: bool = Field(False, description="List pods in every namespace")
    context: p.Context = None


class PodArgs(p.Args):
    name: p.Name
    namespace: p.OptionalNamespace = None
    context: p.Context = None


class GetPodLogsArgs(p.Args):
    name: p.Name
    namespace: p.OptionalNamespace = None
    tail: int = Field(-1, ge=-1, description="Lines from the end; -1 = as many as fit the output cap")
    follow: bool = Field(False, description="Not streamed over MCP: the logs so far are returned, with a note")
    container: p.ContainerName = None
    previous: bool = False
    since: p.Since = None
    context: p.Context = None


class ListDeploymentsArgs(p.Args):
    namespace: p.OptionalNamespace = Field(None, description="Namespace (all namespaces when omitted)")
    context: p.Context = None


class ScaleDeploymentArgs(p.Args):
    name: p.Name
    namespace: p.OptionalNamespace = None
    replicas: int = Field(ge=0, le=100_000, description="Desired number of replicas")
    context: p.Context = None


class ApplyManifestArgs(p.Args):
    yamlContent: str = Field(min_length=1, description="One or more YAML (or JSON) documents, '---' separated")
    namespace: p.OptionalNamespace = Field(
        None, description="Namespace for documents that name none (default: the context's namespace)"
    )
    context: p.Context = None


# -- contexts -------------------------------------------------------------------------------------


async def get_contexts(args: NoArgs, deps: Deps) -> ToolResult:
    return await cluster.configuration_contexts_list(cluster.ContextsListArgs(), deps)


async def get_current_context(args: NoArgs, deps: Deps) -> ToolResult:
    listed = await cluster.configuration_contexts_list(cluster.ContextsListArgs(), deps)
    assert isinstance(listed.data, ContextsOutput)
    current = next((c for c in listed.data.contexts if c.current), None)
    if current is None:
        raise errors.Unavailable("no current context: the kubeconfig names none; pass 'context' on each call")
    return ToolResult(f"{current.name} (cluster {current.cluster}, namespace {current.namespace})", current)


async def switch_context(args: SwitchContextArgs, deps: Deps) -> ToolResult:
    contexts = deps.kube.contexts
    if dry_run_active():
        target = await anyio.to_thread.run_sync(contexts.resolve, args.contextName)
        text = f"[dry run] would make {target.name} this session's default context (nothing was changed)"
        return ToolResult(text, _item(target, current=False))
    target = await anyio.to_thread.run_sync(contexts.switch_session_default, args.contextName)
    text = (
        f"Switched this session's default context to {target.name} (cluster {target.cluster}, namespace "
        f"{target.namespace}); other sessions and the kubeconfig file are unchanged"
    )
    return ToolResult(text, _item(target, current=True))


def _item(ctx: Any, *, current: bool) -> ContextItem:
    return ContextItem(
        name=ctx.name, cluster=ctx.cluster, server=ctx.server, user=ctx.user, namespace=ctx.namespace, current=current
    )


# -- pods -----------------------------------------------------------------------------------------


async def list_pods(args: ListPodsArgs, deps: Deps) -> ToolResult:
    if args.allNamespaces:
        return await pods.pods_list(pods.PodsListArgs(context=args.context), deps)
    namespace = args.namespace or deps.kube.default_namespace(args.context)
    return await pods.pods_list_in_namespace(
        pods.PodsListInNamespaceArgs(namespace=namespace, context=args.context), deps
    )


async def get_pod(args: PodArgs, deps: Deps) -> ToolResult:
    return await pods.pods_get(pods.PodsGetArgs(name=args.name, namespace=args.namespace, context=args.context), deps)


async def get_pod_logs(args: GetPodLogsArgs, deps: Deps) -> ToolResult:
    result = await containers.pods_log(
        containers.PodsLogArgs(
            name=args.name,
            namespace=args.namespace,
            container=args.container,
            tail=max(args.tail, 0),
            previous=args.previous,
            since=args.since,
            context=args.context,
        ),
        deps,
    )
    if not args.follow:
        return result
    note = "[follow is not streamed over MCP: these are the logs so far; call again with since='1m' for newer lines]"
    return ToolResult(f"{result.text}\n{note}", result.data)


async def delete_pod(args: PodArgs, deps: Deps) -> ToolResult:
    return await pods.pods_delete(
        pods.PodsDeleteArgs(name=args.name, namespace=args.namespace, context=args.context), deps
    )


# -- deployments ----------------------------------------------------------------------------------


async def list_deployments(args: ListDeploymentsArgs, deps: Deps) -> ToolResult:
    return await generic.resources_list(
        generic.ResourcesListArgs(
            apiVersion="apps/v1", kind="Deployment", namespace=args.namespace, context=args.context
        ),
        deps,
    )


async def scale_deployment(args: ScaleDeploymentArgs, deps: Deps) -> ToolResult:
    return await workloads.resources_scale(
        workloads.ResourcesScaleArgs(
            apiVersion="apps/v1",
            kind="Deployment",
            name=args.name,
            namespace=args.namespace,
            scale=args.replicas,
            context=args.context,
        ),
        deps,
    )


# -- apply ----------------------------------------------------------------------------------------


async def apply_manifest(args: ApplyManifestArgs, deps: Deps) -> ToolResult:
    return await apply.resources_create_or_update(
        apply.ResourcesCreateOrUpdateArgs(resource=args.yamlContent, namespace=args.namespace, context=args.context),
        deps,
    )


# -- this server's own metrics --------------------------------------------------------------------


async def get_metrics(args: NoArgs, deps: Deps) -> ToolResult:
    text, data = summarize_metrics(read_registry(deps.kube.metrics.registry))
    return ToolResult(text, data)


SPECS: list[ToolSpec[Any]] = [
    ToolSpec(
        name="getContexts",
        title="List contexts",
        description="infra.k8s.cluster: the kubeconfig contexts this server can use; credentials are never shown.",
        params=NoArgs,
        output=ContextsOutput,
        handler=get_contexts,
        action=lambda a: "list contexts",
        read_only=True,
        idempotent=True,
        open_world=False,
        toolset="config",
    ),
    ToolSpec(
        name="getCurrentContext",
        title="Current context",
        description="infra.k8s.cluster: the context this MCP session uses by default.",
        params=NoArgs,
        output=ContextItem,
        handler=get_current_context,
        action=lambda a: "get the current context",
        read_only=True,
        idempotent=True,
        open_world=False,
        toolset="config",
    ),
    ToolSpec(
        name="switchContext",
        title="Switch context (this session)",
        description="infra.k8s.cluster: make contextName the default context of this MCP session only; other "
        "sessions and the kubeconfig file are not changed. Needs a session (Mcp-Session-Id).",
        params=SwitchContextArgs,
        output=ContextItem,
        handler=switch_context,
        action=lambda a: f"switch to context {a.contextName}",
        read_only=False,
        idempotent=True,
        open_world=False,
        toolset="config",
    ),
    ToolSpec(
        name="listPods",
        title="List pods",
        description="infra.k8s.pods: pods of a namespace (default: the context's), or of all with allNamespaces, "
        "as a table.",
        params=ListPodsArgs,
        output=TableOutput,
        handler=list_pods,
        action=lambda a: "list pods" + (" in all namespaces" if a.allNamespaces else ""),
        read_only=True,
    ),
    ToolSpec(
        name="getPod",
        title="Get a pod",
        description="infra.k8s.pods: one pod as YAML (managedFields omitted).",
        params=PodArgs,
        output=ObjectOutput,
        handler=get_pod,
        action=lambda a: f"get pod {a.namespace or '<default>'}/{a.name}",
        read_only=True,
    ),
    ToolSpec(
        name="getPodLogs",
        title="Get pod logs",
        description="infra.k8s.pods: the newest log lines of a pod (tail, -1 = as many as fit the output cap).",
        params=GetPodLogsArgs,
        output=LogOutput,
        handler=get_pod_logs,
        action=lambda a: f"get logs of pod {a.namespace or '<default>'}/{a.name}",
        read_only=True,
    ),
    ToolSpec(
        name="deletePod",
        title="Delete a pod",
        description="infra.k8s.pods: delete a pod (its controller, if any, replaces it).",
        params=PodArgs,
        output=ActionOutput,
        handler=delete_pod,
        action=lambda a: f"delete pod {a.namespace or '<default>'}/{a.name}",
        read_only=False,
        destructive=True,
        idempotent=True,
    ),
    ToolSpec(
        name="listDeployments",
        title="List deployments",
        description="infra.k8s.deployments: deployments of a namespace, or of all namespaces when omitted, as a table.",
        params=ListDeploymentsArgs,
        output=TableOutput,
        handler=list_deployments,
        action=lambda a: "list deployments" + (f" in namespace {a.namespace}" if a.namespace else ""),
        read_only=True,
    ),
    ToolSpec(
        name="scaleDeployment",
        title="Scale a deployment",
        description="infra.k8s.deployments: set a deployment's replicas (through its scale subresource).",
        params=ScaleDeploymentArgs,
        output=ScaleOutput,
        handler=scale_deployment,
        action=lambda a: f"scale deployment {a.namespace or '<default>'}/{a.name}",
        read_only=False,
        destructive=True,
        idempotent=True,
    ),
    ToolSpec(
        name="applyManifest",
        title="Apply a manifest",
        description="infra.k8s.apply: server-side apply one or more YAML documents (field manager k8s-mcp); documents "
        "without a namespace go to namespace (default: the context's).",
        params=ApplyManifestArgs,
        output=ApplyOutput,
        handler=apply_manifest,
        action=lambda a: "apply manifest",
        read_only=False,
        destructive=True,
        idempotent=True,
    ),
    ToolSpec(
        name="getMetrics",
        title="Server metrics",
        description="infra.k8s: this server's own counters: tool calls by tool and outcome, Kubernetes API "
        "calls, sessions.",
        params=NoArgs,
        output=ServerMetricsOutput,
        handler=get_metrics,
        action=lambda a: "get server metrics",
        read_only=True,
        open_world=False,
        toolset="metrics",
    ),
    *infra_helm.SPECS,
]
