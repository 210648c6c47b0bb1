#!/usr/bin/env bash
# The real test control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kwok (fake nodes whose pods really run: logs, exec, metrics) and metrics-server, as host
# processes through kwokctl's binary runtime. Nothing is downloaded: every binary comes from
# rig/build.sh and every manifest from the Go module cache; a dry run proves it before the start.
#
#   rig/cluster.sh up      build (cached) + start; writes .cluster/kubeconfig
#   rig/cluster.sh down    stop and delete everything under .cluster/
#   rig/cluster.sh status  exit 0 when the API server answers
#
# The API server also trusts the rig's OpenID provider (rig/oidc.sh, started first when Node is
# there): a JWT authenticator in a structured authentication configuration (--authentication-config)
# maps the token's sub to the user name and its groups claim to groups, and accepts the audience the
# provider adds to every access token. So a caller's own token works against the API server
# (k8s-mcp --cluster-auth passthrough). K8S_MCP_CLUSTER_OIDC=0 leaves it out.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
NAME="${K8S_MCP_CLUSTER_NAME:-k8s-mcp}"
DIR="${K8S_MCP_CLUSTER_DIR:-$root/.cluster}"
KCFG="$DIR/kubeconfig"
OIDC_DIR="${K8S_MCP_OIDC_DIR:-$root/.oidc}"
# The audience rig/oidc/server.mjs adds to every JWT access token.
OIDC_AUDIENCE="${K8S_MCP_OIDC_CLUSTER_AUDIENCE:-kubernetes}"
NODES="${K8S_MCP_CLUSTER_NODES:-2}"
export KWOK_WORKDIR="$DIR/kwok"
log() { printf '[cluster %s] %s\n' "$(date +%T)" "$*" >&2; }

kubectl_() { "$BIN/kubectl" --kubeconfig "$KCFG" "$@"; }

write_config() {
  local mods kwok_mod ms_mod
  mods="$(go env GOMODCACHE)"
  kwok_mod="$mods/sigs.k8s.io/kwok@$KWOK_VERSION"
  ms_mod="$mods/sigs.k8s.io/metrics-server@$METRICS_SERVER_VERSION"
  for d in "$kwok_mod/kustomize/metrics" "$ms_mod/manifests/base"; do
    [[ -d "$d" ]] || { log "missing module files $d (run rig/build.sh)"; exit 1; }
  done
  mkdir -p "$DIR"
  local patches=""
  if write_authentication_config; then
    patches="componentsPatches:
- name: kube-apiserver
  extraArgs:
  - key: authentication-config
    value: $DIR/authentication.yaml"
  fi
  # What `kubectl logs` returns for every kwok pod: a fixed, recognisable text.
  seq 1 1000 | sed 's/^/2026-01-01T00:00:00.000000000Z stdout F k8s-mcp test log line /' > "$DIR/pod.log"
  {
    cat <<EOF
kind: KwokctlConfiguration
apiVersion: config.kwok.x-k8s.io/v1alpha1
options:
  runtime: binary
  kubeVersion: $KUBE_VERSION
  kubeBinaryPrefix: $BIN
  kubectlBinary: $BIN/kubectl
  etcdBinary: $BIN/etcd
  kwokControllerBinary: $BIN/kwok
  metricsServerBinary: $BIN/metrics-server
  metricsServerManifests: [$ms_mod/manifests/base]
  enableMetricsServer: true
  kubeAuthorization: true
  nodeLeaseDurationSeconds: 40
$patches
---
kind: ClusterLogs
apiVersion: kwok.x-k8s.io/v1alpha1
metadata: {name: logs}
spec:
  logs:
  - logsFile: $DIR/pod.log
---
kind: ClusterExec
apiVersion: kwok.x-k8s.io/v1alpha1
metadata: {name: exec}
spec:
  execs:
  - local:
      workDir: /tmp
EOF
    echo "---"
    cat "$kwok_mod/kustomize/metrics/resource/metrics-resource.yaml"
    echo "---"
    cat "$kwok_mod/kustomize/metrics/usage/usage-from-annotation.yaml"
  } > "$DIR/kwok.yaml"
}

# The JWT authenticator for the rig's OpenID provider; false (and a log line) when it cannot be had.
write_authentication_config() {
  if [[ "${K8S_MCP_CLUSTER_OIDC:-1}" == 0 ]]; then return 1; fi
  if ! command -v node >/dev/null; then
    log "no node: the API server will not trust the rig's OpenID provider (passthrough cannot be tried)"
    return 1
  fi
  # Up before the API server: its authenticator fetches the discovery document as it starts.
  K8S_MCP_OIDC_DIR="$OIDC_DIR" "$here/oidc.sh" up
  local issuer
  issuer="$(sed -n 's/^K8S_MCP_OIDC_ISSUER=//p' "$OIDC_DIR/provider.env")"
  {
    cat <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: $issuer
    audiences: [$OIDC_AUDIENCE]
    certificateAuthority: |
EOF
    sed 's/^/      /' "$OIDC_DIR/ca.crt"
    cat <<EOF
  claimMappings:
    username: {claim: sub, prefix: ""}
    groups: {claim: groups, prefix: ""}
EOF
  } >"$DIR/authentication.yaml"
  # Which provider this cluster trusts, for whoever tests against it.
  echo "K8S_MCP_OIDC_DIR=$OIDC_DIR" >"$DIR/oidc.env"
}

create_nodes() {
  local i
  for ((i = 0; i < NODES; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
    metrics.k8s.io/resource-metrics-path: /metrics/nodes/kwok-node-$i/metrics/resource
EOF
  done | kubectl_ apply -f - >/dev/null
}

wait_for() { # description, timeout-seconds, command...
  local what="$1" limit="$2"; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then log "timed out waiting for $what"; return 1; fi
    sleep 1
  done
}

up() {
  BIN="$("$here/build.sh" | tail -n1)"
  export PATH="$BIN:$PATH"
  if status >/dev/null 2>&1; then log "already running ($KCFG)"; return 0; fi
  down_quiet
  write_config
  log "dry run: checking that nothing would be downloaded"
  local plan
  plan="$("$BIN/kwokctl" --name "$NAME" -c "$DIR/kwok.yaml" --dry-run create cluster --kubeconfig "$KCFG" 2>&1)"
  if grep -Eiq '^# Download https?:|github\.com|dl\.k8s\.io|registry\.k8s\.io' <<<"$plan"; then
    grep -Ei '^# Download https?:|github\.com|dl\.k8s\.io|registry\.k8s\.io' <<<"$plan" | head -5 >&2
    log "refusing to start: the plan would download something"; exit 1
  fi
  local attempt
  for attempt in 1 2; do
    if start_once; then
      log "ready: KUBECONFIG=$KCFG ($(kubectl_ get --raw /version | grep gitVersion | tr -d ' ,'))"
      return 0
    fi
    diagnose
    ((attempt == 2)) || { log "retrying from scratch (attempt $((attempt + 1)) of 2)"; down_quiet; write_config; }
  done
  log "the control plane did not come up; see the component logs above"
  exit 1
}

# One start: the control plane, the fake nodes, and everything the tests rely on being served.
start_once() {
  log "starting control plane"
  "$BIN/kwokctl" --name "$NAME" -c "$DIR/kwok.yaml" create cluster --kubeconfig "$KCFG" --wait 3m >&2 || return 1
  create_nodes || return 1
  wait_for "nodes Ready" 120 bash -c "[[ \$('$BIN/kubectl' --kubeconfig '$KCFG' get nodes --no-headers 2>/dev/null | grep -c ' Ready') -ge $NODES ]]" || return 1
  wait_for "default service account" 60 kubectl_ -n default get serviceaccount default || return 1
  wait_for "metrics API" 90 kubectl_ get --raw /apis/metrics.k8s.io/v1beta1/nodes || return 1
}

# What a failed start leaves behind, so a CI log says why: each component's last lines.
diagnose() {
  local component
  kubectl_ get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions}' >&2 2>/dev/null && echo >&2 || true
  for component in kube-apiserver kwok-controller metrics-server; do
    log "last lines of $component:"
    "$BIN/kwokctl" --name "$NAME" logs "$component" 2>&1 | tail -n 15 >&2 || true
  done
}

down_quiet() {
  local b
  b="$("$here/build.sh" --dir)"
  if [[ -x "$b/kwokctl" && -d "$KWOK_WORKDIR/clusters/$NAME" ]]; then
    PATH="$b:$PATH" "$b/kwokctl" --name "$NAME" delete cluster --kubeconfig "$KCFG" >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
}

down() { down_quiet; log "stopped"; }

status() {
  [[ -f "$KCFG" ]] || return 1
  local b
  b="$("$here/build.sh" --dir)"
  "$b/kubectl" --kubeconfig "$KCFG" get --raw /readyz
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
