#!/usr/bin/env bash
# A Docker engine and CLI for `make image` / `make image-test`, without touching an engine that
# already runs: an engine that answers is used as it is; otherwise this script starts one and
# `down` stops exactly that one (its pid is recorded) and nothing else.
#
#   rig/docker.sh up            when no engine answers: start dockerd (installing Debian's docker.io
#                               with apt-get when there is none); then build the compose v2 CLI
#                               plugin from its Go module if the CLI has no `compose`
#   rig/docker.sh down          stop the dockerd that `up` started (no-op otherwise)
#   rig/docker.sh status        exit 0 when an engine answers
#   rig/docker.sh build-network the network for build steps: `default`, or `host` on an engine without
#                               a bridge network (like the one `up` starts), whose default is unusable
#   rig/docker.sh docker ARGS   run a docker CLI that can build (BuildKit) and has `compose`
#
# The CLI: the first of `docker` on PATH (if it has buildx) and Debian's /usr/bin/docker (20.10, its
# own BuildKit client built in). A newer CLI without the buildx plugin refuses `docker build`.
# The engine this script starts uses --iptables=false --bridge=none: it changes nothing in the host's
# firewall and has no bridge network, so containers (and build steps) use the host's network.
# Compose v2 is compiled with `go install github.com/docker/compose/v2/cmd@$COMPOSE_VERSION` into the
# rig cache and offered to the CLI as a plugin through DOCKER_CONFIG (the user's ~/.docker is left alone).
set -euo pipefail
COMPOSE_VERSION="${COMPOSE_VERSION:-v2.29.7}"
CACHE="${K8S_MCP_RIG_CACHE:-$HOME/.cache/k8s-mcp}/docker"
PIDFILE="$CACHE/dockerd.pid"
LOG="$CACHE/dockerd.log"
PLUGIN_CONFIG="$CACHE/config-compose-$COMPOSE_VERSION"
log() { printf '[rig-docker %s] %s\n' "$(date +%T)" "$*" >&2; }

sudo_() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

cli() { # the path of a docker CLI that can build
  local onpath
  onpath="$(command -v docker || true)"
  if [[ -n "$onpath" ]] && "$onpath" buildx version >/dev/null 2>&1; then echo "$onpath"; return 0; fi
  if [[ -x /usr/bin/docker ]]; then echo /usr/bin/docker; return 0; fi
  return 1
}

answers() { local c; c="$(cli 2>/dev/null)" && "$c" info >/dev/null 2>&1; }

install_engine() { # Debian's docker.io, when there is no engine to start or no CLI that can build
  if { command -v dockerd >/dev/null 2>&1 || [[ -x /usr/sbin/dockerd ]]; } && cli >/dev/null; then return 0; fi
  command -v apt-get >/dev/null 2>&1 || { log "no Docker engine here and no apt-get to install one"; return 1; }
  log "installing docker.io (apt-get)"
  sudo_ apt-get update -q >/dev/null
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io >/dev/null
}

start_engine() {
  if answers; then log "a Docker engine already answers: using it"; return 0; fi
  install_engine
  local dockerd; dockerd="$(command -v dockerd || echo /usr/sbin/dockerd)"
  mkdir -p "$CACHE"
  log "starting dockerd (--iptables=false --bridge=none; log $LOG)"
  # setsid: the engine outlives this script and is not in make's process group.
  sudo_ setsid nohup "$dockerd" --iptables=false --ip-masq=false --bridge=none \
    >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local _
  for _ in $(seq 1 120); do
    if answers; then
      # dockerd's own pid file names the daemon even if setsid had to fork.
      [[ -s /var/run/docker.pid ]] && cat /var/run/docker.pid >"$PIDFILE"
      log "dockerd ready (pid $(cat "$PIDFILE"))"
      return 0
    fi
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
    sleep 0.5
  done
  log "dockerd did not come up:"; tail -n 20 "$LOG" >&2
  rm -f "$PIDFILE"
  return 1
}

compose_plugin() { # build the compose CLI plugin when the CLI has none
  local c; c="$(cli)"
  "$c" compose version >/dev/null 2>&1 && return 0
  local bin="$PLUGIN_CONFIG/cli-plugins/docker-compose"
  [[ -x "$bin" ]] && return 0
  log "building docker compose $COMPOSE_VERSION from its Go module (a few minutes, once)"
  mkdir -p "$PLUGIN_CONFIG/cli-plugins"
  local tmp; tmp="$(mktemp -d)"
  GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
    "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION"
  mv "$tmp/cmd" "$bin.tmp" && mv "$bin.tmp" "$bin"
  rm -rf "$tmp"
}

run_docker() {
  local c; c="$(cli)" || { log "no docker CLI: run rig/docker.sh up"; return 1; }
  if ! "$c" compose version >/dev/null 2>&1 && [[ -x "$PLUGIN_CONFIG/cli-plugins/docker-compose" ]]; then
    export DOCKER_CONFIG="$PLUGIN_CONFIG"
  fi
  export DOCKER_BUILDKIT=1
  exec "$c" "$@"
}

stop_engine() {
  [[ -f "$PIDFILE" ]] || { log "no dockerd started by this script: nothing to stop"; return 0; }
  local pid; pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]]; then
    log "stopping dockerd (pid $pid)"
    sudo_ kill -TERM "$pid"
    local _
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { log "dockerd $pid still runs after 30 s"; return 1; }
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  up) start_engine && compose_plugin ;;
  down) stop_engine ;;
  status) answers ;;
  build-network) if "$(cli)" network inspect bridge >/dev/null 2>&1; then echo default; else echo host; fi ;;
  docker) shift; run_docker "$@" ;;
  *) echo "usage: $0 up|down|status|docker ARGS" >&2; exit 2 ;;
esac
