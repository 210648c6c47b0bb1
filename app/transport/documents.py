"""Register the MCP resources: Kubernetes objects by URI template, the cluster summary, manifest templates.

| URI | what |
|---|---|
| ``k8s://summary``, ``k8s://{context}/summary`` | the cluster on one screen (YAML) |
| ``k8s://{context}/{namespace}/{kind}/{name}`` | one namespaced object, redacted YAML |
| ``k8s://{context}/_cluster/{kind}/{name}`` | one cluster-scoped object |
| ``k8s-template://index`` | the template library (name, kind, apiVersion, uri, description) |
| ``k8s-template://{name}`` | one manifest template (also listed one by one as static resources) |

The logic lives in ``app.documents.objects`` and ``app.documents.summary``; every read runs through
``Served.read`` (identity, audit, metrics, scrubbing, one-line errors).
The object URIs can also be subscribed to for live updates: ``app.transport.subscriptions``.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.types import Annotations

from app.documents import objects as documents
from app.documents.summary import cluster_summary
from app.spec import Deps
from app.transport.served import Served

YAML = "application/yaml"
OBJECT_TEMPLATE = "k8s://{context}/{namespace}/{kind}/{name}"
CLUSTER_OBJECT_TEMPLATE = "k8s://{context}/_cluster/{kind}/{name}"
SUMMARY = "k8s://summary"
SUMMARY_TEMPLATE = "k8s://{context}/summary"
TEMPLATE_INDEX = "k8s-template://index"
TEMPLATE = "k8s-template://{name}"
FOR_ASSISTANT = Annotations(audience=["assistant", "user"], priority=0.5)


def register_resources(server: MCPServer, deps: Deps, served: Served) -> None:
    register_summaries(server, deps, served)
    register_objects(server, deps, served)
    register_templates(server, served)


def register_summaries(server: MCPServer, deps: Deps, served: Served) -> None:
    def context_of(name: str) -> str | None:
        return None if name == documents.CURRENT_CONTEXT else name

    @server.resource(
        SUMMARY,
        name="cluster_summary",
        title="Cluster summary",
        description="The default context's cluster on one screen: version, nodes (ready, cordoned, pressure), "
        "namespaces, pods by status with the worst ones, workloads below their replicas, failed jobs, warning "
        "events by reason.",
        mime_type=YAML,
        annotations=FOR_ASSISTANT,
    )
    async def summary() -> str:
        return await served.read("summary", SUMMARY, lambda: cluster_summary(deps, None))

    @server.resource(
        SUMMARY_TEMPLATE,
        name="cluster_summary_for_context",
        title="Cluster summary of a context",
        description="Like k8s://summary, for the named kubeconfig context ('current' = the default).",
        mime_type=YAML,
    )
    async def summary_for(context: str) -> str:
        uri = SUMMARY_TEMPLATE.format(context=context)
        return await served.read("summary", uri, lambda: cluster_summary(deps, context_of(context)))


def register_objects(server: MCPServer, deps: Deps, served: Served) -> None:
    # Registered before the namespaced form so '_cluster' URIs land here (both accept them anyway).
    @server.resource(
        CLUSTER_OBJECT_TEMPLATE,
        name="cluster_object",
        title="Cluster-scoped Kubernetes object",
        description="A cluster-scoped object (Node, Namespace, ClusterRole, StorageClass, CRD, ...) as YAML. "
        "context: a kubeconfig context or 'current'; kind: Kind, plural or short name, optionally "
        "'plural.group'.",
        mime_type=YAML,
    )
    async def cluster_object(context: str, kind: str, name: str) -> str:
        uri = CLUSTER_OBJECT_TEMPLATE.format(context=context, kind=kind, name=name)
        return await served.read(
            "object",
            uri,
            lambda: documents.read_object(deps, context, documents.CLUSTER_SEGMENT, kind, name),
        )

    @server.resource(
        OBJECT_TEMPLATE,
        name="object",
        title="Kubernetes object",
        description="One namespaced object as YAML (managedFields and secret values left out), e.g. "
        "k8s://current/default/deployments/web. context: a kubeconfig context or 'current'; kind: Kind, plural "
        "or short name, optionally qualified ('deployments.apps', 'widgets.v1.example.com'); unqualified kinds "
        "are searched core, apps, batch, ... first. Cluster-scoped objects: k8s://{context}/_cluster/{kind}/{name}.",
        mime_type=YAML,
    )
    async def namespaced_object(context: str, namespace: str, kind: str, name: str) -> str:
        uri = OBJECT_TEMPLATE.format(context=context, namespace=namespace, kind=kind, name=name)
        return await served.read(
            "object",
            uri,
            lambda: documents.read_object(deps, context, namespace, kind, name),
        )


def register_templates(server: MCPServer, served: Served) -> None:
    async def _text(text: str) -> str:
        return text

    @server.resource(
        TEMPLATE_INDEX,
        name="template_index",
        title="Manifest templates",
        description="The manifest template library: name, kind, apiVersion, URI and what each is for.",
        mime_type=YAML,
    )
    async def template_index() -> str:
        return await served.read("template", TEMPLATE_INDEX, lambda: _text(documents.template_index()))

    for template in documents.templates().values():
        _register_one(server, served, template)

    @server.resource(
        TEMPLATE,
        name="template",
        title="Manifest template",
        description="A production-minded manifest to adapt and apply with resources_create_or_update: by name "
        "(deployment, service, ingress, configmap, job, cronjob, hpa, statefulset, networkpolicy, pdb) or Kind.",
        mime_type=YAML,
    )
    async def template_by_name(name: str) -> str:
        uri = TEMPLATE.format(name=name)
        return await served.read("template", uri, lambda: _text(documents.find_template(name).text))


def _register_one(server: MCPServer, served: Served, template: documents.Template) -> None:
    async def read() -> str:
        async def text() -> str:
            return template.text

        return await served.read("template", template.uri, text)

    server.resource(
        template.uri,
        name=f"template_{template.name}",
        title=f"{template.kind} template",
        description=template.description,
        mime_type=YAML,
    )(read)
