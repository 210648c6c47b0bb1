#!/usr/bin/env bash
# Deployment checks (part of `make test`): the Dockerfile, the compose file, the shell scripts and
# the Helm chart, down to a server-side dry run of every rendered manifest on the real API server.
#
#   rig/chart-checks.sh            every check; needs the test control plane for the dry runs
#   K8S_MCP_TEST_KUBECONFIG=...    the control plane to dry-run against (default .cluster/kubeconfig)
#
# Checks: hadolint (zero findings), compose (the compose-spec JSON schema, plus `docker compose
# config -q` of it and of the image tests' override where a compose CLI exists), shellcheck of
# entrypoint.sh and rig/*.sh, `helm lint --strict` per ci/*-values.yaml scenario, `helm template` per
# scenario, wrong values rejected by values.schema.json, the tests/chart render tests, and `kubectl apply --dry-run=server` of every
# rendered scenario. ServiceMonitor is left out of the dry run: its CRD (Prometheus Operator) is not
# installed in the test control plane. Runs every check, then exits 1 if any failed.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cd "$root" || exit 1
CHART=charts/k8s-mcp
BIN="$("$here/build.sh" --dir)"
HELM="$BIN/helm"
KUBECTL="$BIN/kubectl"
KCFG="${K8S_MCP_TEST_KUBECONFIG:-$root/.cluster/kubeconfig}"
KUBE_MINOR="${KUBE_VERSION#v}"
WORK="$(mktemp -d)"
passed=0
failed=0
created_ns=()

cleanup() {
  local ns
  for ns in "${created_ns[@]}"; do
    "$KUBECTL" --kubeconfig "$KCFG" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

check() { # name, command...: run, report one line, keep the output for a failure
  local name="$1"; shift
  if "$@" >"$WORK/out" 2>&1; then
    passed=$((passed + 1)); printf 'ok    %s\n' "$name"
  else
    failed=$((failed + 1)); printf 'FAIL  %s\n' "$name"; sed 's/^/      /' "$WORK/out" | tail -n 30
  fi
}

need_binaries() {
  [[ -x "$HELM" && -x "$KUBECTL" ]] || { echo "helm/kubectl missing in $BIN: run rig/build.sh"; return 1; }
}

hadolint_clean() { uv run --frozen hadolint --failure-threshold style Dockerfile; }

compose_valid() {
  uv run --frozen check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml || return 1
  if "$here/docker.sh" docker compose version >/dev/null 2>&1; then
    # The compose CLI `make image-test` uses (rig/docker.sh); the engine need not run for `config`.
    "$here/docker.sh" docker compose -f docker-compose.yml config -q &&
      K8S_MCP_TEST_PORT=8008 "$here/docker.sh" docker compose -f docker-compose.yml -f tests/image/compose.test.yml config -q
  elif docker compose version >/dev/null 2>&1; then
    docker compose -f docker-compose.yml config -q
  elif command -v docker-compose >/dev/null 2>&1; then
    docker-compose -f docker-compose.yml config -q
  else
    echo "no compose CLI here: validated against the compose-spec schema only"
  fi
}

shell_clean() { uv run --frozen shellcheck -x -P SCRIPTDIR entrypoint.sh rig/*.sh; }

lint_scenario() { "$HELM" lint "$CHART" --strict --kube-version "$KUBE_MINOR" -f "$1"; }

template_scenario() { # values-file, namespace, out-dir
  rm -rf "$3" && mkdir -p "$3" &&
    "$HELM" template k8s-mcp "$CHART" --namespace "$2" --kube-version "$KUBE_MINOR" -f "$1" --output-dir "$3" >/dev/null
}

rejected() { # --set expression that the schema (or a template guard) must refuse, expected text
  local out
  if out="$("$HELM" template k8s-mcp "$CHART" --kube-version "$KUBE_MINOR" --set "$1" 2>&1)"; then
    echo "accepted: --set $1"; return 1
  fi
  grep -qF -- "$2" <<<"$out" || { echo "refused, but not with '$2':"; echo "$out"; return 1; }
}

render_tests() { uv run --frozen pytest tests/chart -q -p no:cacheprovider; }

ensure_namespace() {
  if ! "$KUBECTL" --kubeconfig "$KCFG" get namespace "$1" >/dev/null 2>&1; then
    "$KUBECTL" --kubeconfig "$KCFG" create namespace "$1" >/dev/null && created_ns+=("$1")
  fi
}

server_dry_run() { # rendered dir
  local dir="$1" ns
  find "$dir" -name servicemonitor.yaml -delete
  while read -r ns; do
    ensure_namespace "$ns" || return 1
  done < <(grep -rhoE '^  namespace: [a-z0-9.-]+' "$dir" | awk '{print $2}' | sort -u)
  "$KUBECTL" --kubeconfig "$KCFG" apply --dry-run=server --validate=strict -R -f "$dir" | tee "$WORK/applied"
  grep -q "(server dry run)" "$WORK/applied"
}

check "helm and kubectl present" need_binaries
check "hadolint Dockerfile" hadolint_clean
check "docker-compose.yml is valid compose" compose_valid
check "shellcheck entrypoint.sh rig/*.sh" shell_clean
check "chart render tests (tests/chart)" render_tests

release_ns="chart-checks-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
cluster_up=true
if ! "$KUBECTL" --kubeconfig "$KCFG" get --raw /readyz >/dev/null 2>&1; then
  cluster_up=false
  check "test control plane answers at $KCFG" false
fi

for values in "$CHART"/ci/*-values.yaml; do
  scenario="$(basename "$values" -values.yaml)"
  check "helm lint --strict ($scenario)" lint_scenario "$values"
  check "helm template ($scenario)" template_scenario "$values" "$release_ns" "$WORK/$scenario"
  if $cluster_up; then
    check "kubectl apply --dry-run=server ($scenario; ServiceMonitor skipped: no CRD)" server_dry_run "$WORK/$scenario"
  fi
done

check "schema rejects replicaCount=abc" rejected replicaCount=abc "want integer"
check "schema rejects rbac.write=yes" rejected rbac.write=yes "want boolean"
check "schema rejects config.api_timeout=fast" rejected config.api_timeout=fast "want number"
check "schema rejects service.port=70000" rejected service.port=70000 "maximum"
check "schema rejects an unknown setting config.prot=1" rejected config.prot=1 "additional properties 'prot' not allowed"
check "schema rejects image.pullPolicy=Sometimes" rejected image.pullPolicy=Sometimes "value must be one of"
check "schema rejects config.log_level=LOUD" rejected config.log_level=LOUD "value must be one of"
check "template refuses maxReplicas < minReplicas" rejected "autoscaling.enabled=true,autoscaling.minReplicas=4,autoscaling.maxReplicas=2" "maxReplicas must be at least"

echo "chart-checks: $passed passed, $failed failed"
((failed == 0))
