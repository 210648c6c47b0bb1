"""Output models: the declared ``outputSchema`` of every tool and the shape of its structuredContent."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from app.output import Cell


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True, defer_build=True)


# A cell's schema as one type list rather than pydantic's anyOf of five: the same values are valid, and
# clients that validate structuredContent (the Python SDK does, with jsonschema) check a 200-row table in
# about half the time.
TableCell = Annotated[Cell, WithJsonSchema({"type": ["string", "number", "boolean", "null"]})]


class TableOutput(_Out):
    """A list rendered as a table: the same rows the text shows."""

    kind: str = Field(description="Kind of the listed objects")
    namespace: str | None = Field(None, description="Namespace listed; null for all namespaces or cluster scope")
    columns: list[str]
    rows: list[list[TableCell]]
    count: int = Field(description="Rows in this result")
    truncated: bool = Field(description="True when rows were fetched but left out by the output cap")
    continue_token: str | None = Field(
        None, alias="continue", description="Pass as 'continue' to fetch the next page; null on the last page"
    )


class ObjectOutput(_Out):
    """One Kubernetes object, as returned by the API minus managedFields and secret values."""

    apiVersion: str
    kind: str
    name: str
    namespace: str | None = None
    object: dict[str, Any]


class ContextItem(_Out):
    name: str
    cluster: str
    server: str
    user: str
    namespace: str
    current: bool


class ContextsOutput(_Out):
    contexts: list[ContextItem]
    current: str | None


class HelmReleaseItem(_Out):
    name: str
    namespace: str
    revision: int
    status: str
    chart: str = Field(description="Chart name and version, e.g. 'nginx-1.2.3'")
    app_version: str
    updated: str


class HelmListOutput(_Out):
    namespace: str | None = Field(description="Namespace listed; null for all namespaces")
    releases: list[HelmReleaseItem]
    count: int
    truncated: bool = Field(description="True when releases were left out (output cap or limit)")


class HelmRevisionItem(_Out):
    revision: int
    updated: str
    status: str
    chart: str
    app_version: str
    description: str


class HelmHistoryOutput(_Out):
    name: str
    namespace: str
    revisions: list[HelmRevisionItem]
    count: int


class HelmReleaseOutput(_Out):
    """One release revision: after status, install, upgrade or rollback (or their dry run)."""

    name: str
    namespace: str
    revision: int | None
    status: str
    chart: str | None = Field(None, description="Chart name and version, e.g. 'nginx-1.2.3'")
    app_version: str | None = None
    updated: str | None = None
    description: str | None = None
    notes: str | None = None
    resources: list[str] = Field(default_factory=list, description="Objects of the release, as Kind/name")
    dry_run: bool = Field(False, description="True when nothing was changed (preview)")
    message: str | None = Field(None, description="What was done, or would be done in a dry run")
    manifest: str | None = Field(None, description="Rendered manifest of a dry run (Secret values redacted)")


class HelmValuesOutput(_Out):
    name: str
    namespace: str
    revision: int | None
    all: bool = Field(description="True: computed values including chart defaults; false: user-supplied only")
    values: dict[str, Any]


class HelmManifestOutput(_Out):
    name: str
    namespace: str
    revision: int | None
    resources: list[str]
    manifest: str
    truncated: bool


class HelmUninstallOutput(_Out):
    name: str
    namespace: str
    dry_run: bool
    keep_history: bool
    resources: list[str] = Field(description="Objects of the release that were (or would be) deleted, as Kind/name")
    message: str


class ObjectRef(_Out):
    """Which object a change was made to."""

    apiVersion: str
    kind: str
    name: str
    namespace: str | None = None


class AppliedObject(ObjectRef):
    result: Literal["created", "configured", "unchanged"]
    diff: str | None = Field(None, description="Unified diff live -> new (dry run only; secret values hidden)")


class ApplyOutput(_Out):
    dryRun: bool = Field(description="True when nothing was persisted (a preview)")
    objects: list[AppliedObject]


class ChangeOutput(ObjectRef):
    """The outcome of one write (delete, patch, restart, undo)."""

    result: str = Field(description="What happened, e.g. 'deleted', 'patched', 'unchanged', 'restarted'")
    dryRun: bool
    diff: str | None = Field(None, description="Unified diff before -> after, when the tool computes one")
    detail: str | None = None


class ScaleOutput(ObjectRef):
    replicas: int = Field(description="Desired replicas (after the change, when one was made)")
    previous: int | None = Field(None, description="Desired replicas before the change; null when only read")
    current: int | None = Field(None, description="Replicas that exist now (status.replicas)")
    selector: str | None = None
    dryRun: bool = False


class RolloutStatusOutput(ObjectRef):
    done: bool = Field(description="True when the rollout is complete")
    message: str = Field(description="One line, as `kubectl rollout status` prints it")


class Revision(_Out):
    revision: int
    current: bool
    name: str = Field(description="ReplicaSet or ControllerRevision holding this revision")
    changeCause: str | None = None
    images: list[str]


class RolloutHistoryOutput(ObjectRef):
    revisions: list[Revision]


class RolloutUndoOutput(ObjectRef):
    fromRevision: int | None
    toRevision: int
    changed: bool = Field(description="False when the object already runs that revision's template")
    dryRun: bool


class EventItem(_Out):
    type: str
    reason: str
    age: str
    count: int
    source: str
    message: str


class OwnerItem(_Out):
    apiVersion: str
    kind: str
    name: str
    found: bool = Field(description="False when the owner no longer exists or cannot be read")


class DescribeOutput(ObjectRef):
    sections: dict[str, str] = Field(description="The summary the text shows, by heading")
    owners: list[OwnerItem] = Field(description="Owner chain, nearest first (Pod -> ReplicaSet -> Deployment)")
    events: list[EventItem] = Field(description="Most recent events of this object, oldest first")
    eventsTotal: int


# -- pods and nodes: logs, exec, changes ----------------------------------------------------------


class LogOutput(_Out):
    """Log lines of one container (pods) or one node service/file (nodes)."""

    name: str = Field(description="Pod or node name")
    namespace: str | None = None
    container: str | None = Field(None, description="Container the lines come from (pods)")
    source: str | None = Field(None, description="Node log query or file (nodes)")
    lines: int = Field(description="Lines shown")
    truncated: bool = Field(description="True when earlier lines were left out by the output cap")
    log: str


class ExecOutput(_Out):
    name: str
    namespace: str
    container: str | None
    command: list[str]
    exit_code: int | None = Field(description="The command's exit status; null when it did not finish")
    stdout: str
    stderr: str
    timed_out: bool
    truncated: bool = Field(description="True when output beyond the cap was left out")
    dry_run: bool = Field(False, description="True when this was a preview and nothing was run")


class ActionOutput(_Out):
    """What a pod or profile tool changed (or, in a dry run, would change)."""

    action: str = Field(description="created, deleted, scaled, applied, switched, ...")
    objects: list[str] = Field(description="The objects touched, as kind/namespace/name")
    message: str
    dry_run: bool = Field(description="True when nothing was persisted (preview)")


# -- nodes ----------------------------------------------------------------------------------------


class PodUsage(_Out):
    namespace: str
    name: str
    cpu_millicores: float | None
    memory_working_set_bytes: int | None
    ephemeral_storage_used_bytes: int | None = None


class StatsSummaryOutput(_Out):
    """The kubelet Summary API reduced to what a reader compares: node totals, then pods by CPU."""

    node: str
    cpu_millicores: float | None
    memory_working_set_bytes: int | None
    memory_available_bytes: int | None
    fs_used_bytes: int | None
    fs_capacity_bytes: int | None
    network_rx_bytes: int | None
    network_tx_bytes: int | None
    pods: list[PodUsage]


class NodeSchedulingOutput(_Out):
    """A cordon or uncordon."""

    node: str
    unschedulable: bool = Field(description="True when the node takes no new pods (cordoned), after the call")
    changed: bool = Field(description="False when the node already was in that state")
    dryRun: bool = Field(description="True when nothing was persisted (preview)")


class DrainedPod(_Out):
    namespace: str
    name: str
    outcome: Literal["evicted", "would evict", "blocked", "would block", "skipped", "gone", "failed"] = Field(
        description="evicted (and gone from the node); would evict / would block (preview); blocked (a "
        "PodDisruptionBudget still refused when the timeout came); skipped (DaemonSet or mirror pod); "
        "gone (left before it was evicted); failed (the API refused the eviction)"
    )
    detail: str = Field(description="Why, in a few words")
    budget: str | None = Field(None, description="The PodDisruptionBudget that blocked the eviction (namespace/name)")


class DrainOutput(_Out):
    """A node drain: cordon, then evict every pod through the Eviction API so disruption budgets hold."""

    node: str
    dryRun: bool = Field(description="True when nothing was changed (preview: the evictions were dry runs)")
    wasCordoned: bool = Field(description="True when the node was already cordoned before the drain")
    pods: list[DrainedPod]
    evicted: int
    blocked: int
    skipped: int
    complete: bool = Field(description="True when every pod to evict has left the node (or would, in a preview)")


# -- cluster --------------------------------------------------------------------------------------


class ConfigurationOutput(_Out):
    kubeconfig: dict[str, Any] = Field(description="The kubeconfig with every credential redacted")
    minified: bool
    current_context: str | None


class ExplainField(_Out):
    name: str
    type: str
    required: bool
    description: str


class ExplainMatch(_Out):
    apiVersion: str
    kind: str
    field: str | None = Field(description="Field path (pass it as 'field' to explain it); null when the kind matched")
    type: str
    description: str = Field(description="First sentence of the documentation")
    alsoIn: int = Field(0, description="How many other kinds have this same field (the same type's property)")


class ExplainOutput(_Out):
    """A kind or field explained (apiVersion, kind, ...), or the result of a keyword search (search, matches)."""

    apiVersion: str | None = None
    kind: str | None = None
    field: str | None = Field(None, description="Field path explained; null for the kind itself")
    type: str | None = None
    description: str | None = None
    fields: list[ExplainField] = Field(default_factory=list, description="Child fields")
    search: str | None = Field(None, description="The keyword searched for; null when explaining")
    matches: list[ExplainMatch] = Field(default_factory=list, description="Kinds and fields matching the keyword")
    matchesTotal: int = Field(0, description="All matches, also those left out of 'matches'")
    source: str = Field(
        description="Where the documentation comes from: the cluster's OpenAPI v3, or, with no cluster "
        "reachable, the Kubernetes release documented by the installed kubernetes Python client"
    )


class VersionOutput(_Out):
    version: str = Field(description="Kubernetes gitVersion of the API server")
    platform: str | None
    go_version: str | None
    server: str = Field(description="API endpoint URL")
    context: str
    nodes: int | None = Field(description="Node count (null when nodes may not be listed)")
    ready_nodes: int | None


class CountItem(_Out):
    labels: dict[str, str]
    count: float


class ServerMetricsOutput(_Out):
    """This server's own Prometheus counters, summarized."""

    tool_calls: list[CountItem] = Field(description="Tool calls by tool and outcome")
    kube_api_calls: list[CountItem] = Field(description="Kubernetes API calls by verb and status")
    inflight_tool_calls: float
    open_sessions: float
