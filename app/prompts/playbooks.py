"""Pure plans for the cluster-wide prompts: health check, resource usage, security, performance, cost.

Each function returns the plan text for a scope (one namespace or all, one context or the default).
They name the tools of this server with the arguments to pass and the signs to look for, and end
with what the report should contain; none of them reads the cluster.
"""

from __future__ import annotations

from app.prompts.plans import Plan, PlanEnv, call, scope_line


def _pods(ctx: str | None, ns: str | None, **kw: str) -> str:
    if ns:
        return call("pods_list_in_namespace", ctx, namespace=ns, **kw)
    return call("pods_list", ctx, **kw)


def cluster_health_plan(namespace: str | None, context: str | None, env: PlanEnv) -> str:
    ns, ctx = namespace, context
    plan = Plan(
        title="Cluster health check",
        goal="a short verdict (healthy / degraded / failing) per area, with the evidence and the next step.",
        scope=scope_line(ns, ctx),
    )
    plan.step(
        "Confirm which cluster you are looking at, and take the overview (if your client reads MCP resources, "
        "read k8s://summary: version, nodes, namespaces and workloads by status in one answer).",
        call("configuration_contexts_list"),
        look="the context and API server you expect.",
    )
    plan.step(
        "Nodes: every node Ready and schedulable, versions consistent, no pressure.",
        call("resources_list", ctx, apiVersion="v1", kind="Node"),
        call("nodes_top", ctx),
        look="STATUS NotReady or SchedulingDisabled; kubelet VERSION skew; CPU% or MEMORY% above ~85% (nodes_top "
        "needs metrics-server; if it is missing, say so and move on).",
    )
    plan.step(
        "Pods that are not running.",
        _pods(ctx, ns, fieldSelector="status.phase!=Running,status.phase!=Succeeded"),
        _pods(ctx, ns),
        look="phases Pending/Failed/Unknown in the first list; in the second, STATUS CrashLoopBackOff, "
        "ImagePullBackOff, Error, OOMKilled and high RESTARTS (these keep phase Running, so the selector misses "
        "them).",
    )
    plan.step(
        "Recent warnings.",
        call("events_list", ctx, namespace=ns, fieldSelector="type=Warning"),
        look="reasons that repeat: FailedScheduling, BackOff, Unhealthy, FailedMount, Evicted, NodeNotReady, "
        "FailedCreate.",
    )
    plan.step(
        "Workloads below their desired replicas.",
        call("resources_list", ctx, apiVersion="apps/v1", kind="Deployment", namespace=ns),
        call("resources_list", ctx, apiVersion="apps/v1", kind="StatefulSet", namespace=ns),
        call("resources_list", ctx, apiVersion="apps/v1", kind="DaemonSet", namespace=ns),
        look="READY x/y with x < y, AVAILABLE below DESIRED, UP-TO-DATE lagging (a stuck rollout: "
        + call("resources_rollout_status", ctx, kind="Deployment", name="<name>", namespace=ns or "<namespace>")
        + ").",
    )
    plan.step(
        "Storage and control-plane plumbing.",
        call("resources_list", ctx, apiVersion="v1", kind="PersistentVolumeClaim", namespace=ns),
        call("resources_list", ctx, apiVersion="apiregistration.k8s.io/v1", kind="APIService"),
        look="claims stuck Pending; APIServices with AVAILABLE False (they break discovery and kubectl).",
    )
    plan.step(
        "Namespaces and releases.",
        call("namespaces_list", ctx),
        call("helm_list", ctx, namespace=ns, all_namespaces=None if ns else True),
        look="namespaces stuck Terminating; Helm releases failed or pending-install/pending-upgrade.",
    )
    plan.step(
        "For each unhealthy pod, get its own plan from the troubleshoot_pod prompt (namespace, pod), or start with "
        "its events and previous logs.",
        call("pods_log", ctx, name="<pod>", namespace=ns or "<namespace>", previous=True, tail=50),
    )
    plan.report = (
        "one line per area (nodes, pods, workloads, storage, API services, releases, events): OK / WARN / CRITICAL, "
        "the evidence, and the next step. Lead with the overall verdict."
    )
    return plan.render(env)


def resource_usage_plan(namespace: str | None, context: str | None, env: PlanEnv) -> str:
    ns, ctx = namespace, context
    plan = Plan(
        title="Resource usage analysis",
        goal="where CPU and memory go, how it compares with requests and limits, and how much headroom is left.",
        scope=scope_line(ns, ctx),
    )
    plan.step(
        "Node usage and headroom.",
        call("nodes_top", ctx),
        call("resources_describe", ctx, apiVersion="v1", kind="Node", name="<node>"),
        look="usage per node; allocatable versus the sum of requests ('Allocated resources'): a node whose "
        "requests are near 100% cannot take new pods even if actual usage is low.",
    )
    plan.step(
        "The biggest consumers.",
        call("pods_top", ctx, namespace=ns) if ns else call("pods_top", ctx, all_namespaces=True),
        call("pods_top", ctx, namespace=ns or "<namespace>", containers=True),
        look="the top 10 pods by CPU and by memory; which containers inside them.",
    )
    plan.step(
        "Their requests and limits.",
        call("resources_get", ctx, apiVersion="apps/v1", kind="Deployment", name="<name>", namespace=ns or "<ns>"),
        look="spec.template.spec.containers[].resources: usage far below requests = over-provisioned; usage near "
        "limits = throttling (CPU) or OOM risk (memory); no requests at all = BestEffort, evicted first.",
    )
    plan.step(
        "Namespace guard rails.",
        call("resources_list", ctx, apiVersion="v1", kind="ResourceQuota", namespace=ns),
        call("resources_list", ctx, apiVersion="v1", kind="LimitRange", namespace=ns),
        look="quotas close to their hard limits; defaults a LimitRange injects.",
    )
    plan.step(
        "Autoscaling and node-level detail.",
        call("resources_list", ctx, apiVersion="autoscaling/v2", kind="HorizontalPodAutoscaler", namespace=ns),
        call("nodes_stats_summary", ctx, name="<node>"),
        look="HPAs pinned at max replicas or showing <unknown> targets; ephemeral-storage and filesystem usage.",
    )
    plan.report = (
        "a table of the top consumers (usage / request / limit), over- and under-provisioned workloads with "
        "suggested requests, node headroom, and risks (quotas, pinned HPAs)."
    )
    return plan.render(env)


def security_plan(namespace: str | None, context: str | None, env: PlanEnv) -> str:
    ns, ctx = namespace, context
    plan = Plan(
        title="Security assessment",
        goal="risky workload settings and broad permissions, ranked by severity, each with its fix.",
        scope=scope_line(ns, ctx),
    )
    plan.step(
        "Inventory the workloads and read their pod specs.",
        call("resources_list", ctx, apiVersion="apps/v1", kind="Deployment", namespace=ns),
        call("resources_list", ctx, apiVersion="apps/v1", kind="DaemonSet", namespace=ns),
        call("resources_get", ctx, apiVersion="apps/v1", kind="Deployment", name="<name>", namespace=ns or "<ns>"),
        look="in spec.template.spec: securityContext.privileged: true; allowPrivilegeEscalation not false; "
        "capabilities.add (SYS_ADMIN, NET_ADMIN, ALL); hostNetwork/hostPID/hostIPC; hostPath volumes (worst: /, "
        "/var/run/docker.sock, /etc); runAsUser: 0 or no runAsNonRoot (runs as root); readOnlyRootFilesystem "
        "not true; missing resources.limits; image tags ':latest' or none.",
    )
    plan.step(
        "Catch bare pods the workloads do not cover.",
        _pods(ctx, ns),
        call("pods_get", ctx, name="<pod>", namespace=ns or "<namespace>"),
        look="the same fields on pods without an owner (metadata.ownerReferences).",
    )
    plan.step(
        "Namespace admission: Pod Security labels.",
        call("resources_get", ctx, apiVersion="v1", kind="Namespace", name=ns or "<namespace>"),
        look="labels pod-security.kubernetes.io/enforce (restricted or baseline); none = anything is admitted.",
    )
    plan.step(
        "Broad RBAC.",
        call("resources_list", ctx, apiVersion="rbac.authorization.k8s.io/v1", kind="ClusterRoleBinding"),
        call("resources_get", ctx, apiVersion="rbac.authorization.k8s.io/v1", kind="ClusterRole", name="<role>"),
        call("resources_list", ctx, apiVersion="rbac.authorization.k8s.io/v1", kind="RoleBinding", namespace=ns),
        look="bindings of cluster-admin (or roles with verbs/resources '*') to users, groups or ServiceAccounts; "
        "subjects system:anonymous, system:unauthenticated, system:authenticated; rules on secrets (get/list/watch), "
        "pods/exec, escalate, bind, impersonate; default ServiceAccounts with bindings.",
    )
    plan.step(
        "Service account tokens and network exposure.",
        call("resources_list", ctx, apiVersion="v1", kind="ServiceAccount", namespace=ns),
        call("resources_list", ctx, apiVersion="networking.k8s.io/v1", kind="NetworkPolicy", namespace=ns),
        call("resources_list", ctx, apiVersion="v1", kind="Service", namespace=ns),
        look="automountServiceAccountToken not false where no API access is needed; namespaces with no "
        "NetworkPolicy (all traffic allowed); Services of type LoadBalancer or NodePort exposing internal apps.",
    )
    plan.step(
        "Fixes come as manifests: a default-deny policy from the k8s-template://networkpolicy resource, hardened "
        "pod specs from k8s-template://deployment. Preview first.",
        call("resources_create_or_update", ctx, resource="<manifest YAML>", dryRun=True),
    )
    plan.notes.append(
        "Secret values are never shown by this server (Secrets are denied by default); judge secret handling from "
        "references (env valueFrom, volumes), not contents."
    )
    plan.report = (
        "findings ranked CRITICAL (privileged, host namespaces, sensitive hostPath, cluster-admin to a "
        "ServiceAccount or broad group), HIGH (root, added capabilities, secrets/exec RBAC), MEDIUM (no limits, no "
        "NetworkPolicy, no Pod Security labels), LOW (mutable tags): object, evidence, fix."
    )
    return plan.render(env)


def performance_plan(namespace: str | None, context: str | None, env: PlanEnv) -> str:
    ns, ctx = namespace, context
    anyns = ns or "<namespace>"
    plan = Plan(
        title="Performance optimization",
        goal="find workloads limited by resources, scaling or placement, and propose measured changes.",
        scope=scope_line(ns, ctx),
    )
    plan.step(
        "Where the pressure is.",
        call("nodes_top", ctx),
        call("pods_top", ctx, namespace=ns) if ns else call("pods_top", ctx, all_namespaces=True),
        look="hot nodes; pods whose CPU sits at their limit (throttled) or memory near it (OOM risk).",
    )
    plan.step(
        "Symptoms in events and restarts.",
        call("events_list", ctx, namespace=ns, fieldSelector="type=Warning"),
        _pods(ctx, ns),
        look="Unhealthy (probes timing out under load), BackOff, Evicted, FailedScheduling; RESTARTS climbing.",
    )
    plan.step(
        "Scaling.",
        call("resources_list", ctx, apiVersion="autoscaling/v2", kind="HorizontalPodAutoscaler", namespace=ns),
        call("resources_describe", ctx, apiVersion="apps/v1", kind="Deployment", name="<name>", namespace=anyns),
        look="HPAs at maxReplicas or with <unknown> metrics; fixed replica counts on busy services; probes with "
        "short timeouts; requests that are too low to schedule spread-out replicas.",
    )
    plan.step(
        "Placement and disruption.",
        call("resources_list", ctx, apiVersion="policy/v1", kind="PodDisruptionBudget", namespace=ns),
        call("resources_get", ctx, apiVersion="apps/v1", kind="Deployment", name="<name>", namespace=anyns),
        look="replicas all on one node (no topologySpreadConstraints or anti-affinity); PDBs with ALLOWED "
        "DISRUPTIONS 0 that block node maintenance.",
    )
    plan.step(
        "Apply one change at a time and measure: a replica count, requests/limits, or an HPA (the "
        "k8s-template://hpa resource has one). Preview first.",
        call("resources_scale", ctx, apiVersion="apps/v1", kind="Deployment", name="<name>", namespace=anyns, scale=3),
        call(
            "resources_patch",
            ctx,
            apiVersion="apps/v1",
            kind="Deployment",
            name="<name>",
            namespace=anyns,
            patch={
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "<container>",
                                    "resources": {"requests": {"cpu": "500m"}, "limits": {"cpu": "1"}},
                                }
                            ]
                        }
                    }
                }
            },
        ),
        call("resources_rollout_status", ctx, kind="Deployment", name="<name>", namespace=anyns),
        look="after the rollout, pods_top and events again: lower throttling, no new warnings.",
    )
    plan.report = "the bottlenecks with evidence, each proposed change, its expected effect, and what you measured."
    return plan.render(env)


def cost_plan(namespace: str | None, context: str | None, env: PlanEnv) -> str:
    ns, ctx = namespace, context
    plan = Plan(
        title="Cost optimization",
        goal="capacity paid for but not used, and objects that cost money while doing nothing, with savings.",
        scope=scope_line(ns, ctx),
    )
    plan.step(
        "Node utilisation.",
        call("nodes_top", ctx),
        call("resources_list", ctx, apiVersion="v1", kind="Node"),
        look="nodes mostly idle (CPU and memory both under ~30%): candidates to consolidate or a smaller node pool.",
    )
    plan.step(
        "Requests versus real usage (requests are what you pay for on a full cluster).",
        call("pods_top", ctx, namespace=ns) if ns else call("pods_top", ctx, all_namespaces=True),
        call("resources_get", ctx, apiVersion="apps/v1", kind="Deployment", name="<name>", namespace=ns or "<ns>"),
        look="workloads using under half of what they request: the difference, summed, is reclaimable.",
    )
    plan.step(
        "Idle and forgotten workloads.",
        call("resources_list", ctx, apiVersion="apps/v1", kind="Deployment", namespace=ns),
        call("resources_list", ctx, apiVersion="autoscaling/v2", kind="HorizontalPodAutoscaler", namespace=ns),
        call("helm_list", ctx, namespace=ns, all_namespaces=None if ns else True),
        look="replicas kept up in dev/test namespaces; HPAs whose minReplicas is above the load; failed or stale "
        "Helm releases.",
    )
    plan.step(
        "Orphans that still cost money.",
        call("resources_list", ctx, apiVersion="v1", kind="PersistentVolumeClaim", namespace=ns),
        call("resources_list", ctx, apiVersion="v1", kind="PersistentVolume"),
        call("resources_list", ctx, apiVersion="v1", kind="Service", namespace=ns),
        call("resources_list", ctx, apiVersion="batch/v1", kind="Job", namespace=ns),
        look="claims no pod mounts; volumes Released (storage still billed); LoadBalancer Services with no "
        "endpoints; finished Jobs without ttlSecondsAfterFinished; pods Succeeded/Failed left behind.",
    )
    plan.step(
        "Propose, do not apply: rightsizing patches, scale-downs and deletions all need the user's agreement "
        "(scaling to zero counts as destructive here).",
        call(
            "resources_scale",
            ctx,
            apiVersion="apps/v1",
            kind="Deployment",
            name="<name>",
            namespace=ns or "<namespace>",
            scale=1,
        ),
    )
    plan.report = (
        "a ranked list of savings: item, evidence, action, estimated CPU cores / GiB freed (and nodes that could go), "
        "and the risk of each action."
    )
    return plan.render(env)
