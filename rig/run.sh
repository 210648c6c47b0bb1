#!/usr/bin/env bash
# `make run`: serve on 0.0.0.0:8008 against $KUBECONFIG, ~/.kube/config or the in-cluster service
# account; when none exists, start the bundled local test cluster, seed its `demo` namespace
# (rig/demo.yaml) and put the rig's `helm` on PATH so the Helm tools work too, and say so.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -z "${KUBECONFIG:-}" && ! -f "$HOME/.kube/config" && -z "${KUBERNETES_SERVICE_HOST:-}" ]]; then
  echo "k8s-mcp: no KUBECONFIG, no ~/.kube/config and not in a cluster: starting the bundled test cluster" >&2
  "$root/rig/cluster.sh" up
  export KUBECONFIG="$root/.cluster/kubeconfig"
  bin="$("$root/rig/build.sh" --dir)"
  export PATH="$bin:$PATH"
  "$bin/kubectl" apply -f "$root/rig/demo.yaml" >/dev/null
  echo "k8s-mcp: using the bundled test cluster (KUBECONFIG=$KUBECONFIG, helm from $bin);" \
    "try namespace 'demo': a healthy Deployment 'web' with its Service, and 'reports', which cannot start" >&2
fi
cd "$root"
exec uv run --frozen k8s-mcp "$@"
