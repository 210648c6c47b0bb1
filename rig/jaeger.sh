#!/usr/bin/env bash
# A real tracing backend for the trace tests: Jaeger v2 (cmd/jaeger, an OpenTelemetry Collector
# distribution with Jaeger's storage and query extensions), built from its Go module through the
# wrapper module rig/jaeger (cached like the control plane's binaries), with in-memory storage and
# every port on 127.0.0.1.
#
#   rig/jaeger.sh build    build (cached) and print the binary's path
#   rig/jaeger.sh up       build + start; prints the OTLP/HTTP endpoint and the query URL
#   rig/jaeger.sh down     stop it
#   rig/jaeger.sh status   exit 0 when its query API answers
#
# Ports (override with the env vars): OTLP/HTTP $JAEGER_OTLP_HTTP_PORT (24318), OTLP/gRPC
# $JAEGER_OTLP_GRPC_PORT (24317), query HTTP $JAEGER_QUERY_PORT (26686), query gRPC $JAEGER_QUERY_GRPC_PORT (26685).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
DIR="${K8S_MCP_JAEGER_DIR:-$root/.jaeger}"
BIN="${K8S_MCP_RIG_CACHE:-$HOME/.cache/k8s-mcp}/bin/jaeger-$JAEGER_VERSION"
OTLP_HTTP="${JAEGER_OTLP_HTTP_PORT:-24318}"
OTLP_GRPC="${JAEGER_OTLP_GRPC_PORT:-24317}"
QUERY="${JAEGER_QUERY_PORT:-26686}"
QUERY_GRPC="${JAEGER_QUERY_GRPC_PORT:-26685}"
log() { printf '[jaeger %s] %s\n' "$(date +%T)" "$*" >&2; }

build() {
  if [[ ! -x "$BIN/jaeger" ]]; then
    log "building jaeger $JAEGER_VERSION (github.com/jaegertracing/jaeger/cmd/jaeger; several minutes cold)"
    mkdir -p "$BIN"
    (cd "$here/jaeger" && CGO_ENABLED=0 GOFLAGS="-trimpath -mod=mod" \
      go build -ldflags "-s -w" -o "$BIN/jaeger.tmp" github.com/jaegertracing/jaeger/cmd/jaeger)
    mv "$BIN/jaeger.tmp" "$BIN/jaeger"
  fi
  echo "$BIN/jaeger"
}

answers() { # the query API answers 200 (python3 is there on every machine that runs the tests; curl may not be)
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "http://127.0.0.1:$QUERY/api/services" 2>/dev/null
}

write_config() {
  mkdir -p "$DIR"
  cat > "$DIR/config.yaml" <<YAML
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 20000
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:$QUERY
    grpc:
      endpoint: 127.0.0.1:$QUERY_GRPC
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$OTLP_GRPC
      http:
        endpoint: 127.0.0.1:$OTLP_HTTP
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
YAML
}

up() {
  local binary
  binary="$(build)"
  if answers 2>/dev/null; then
    log "already running: query http://127.0.0.1:$QUERY"
  else
    write_config
    log "starting $binary (log $DIR/jaeger.log)"
    setsid "$binary" --config "$DIR/config.yaml" >"$DIR/jaeger.log" 2>&1 < /dev/null &
    echo $! > "$DIR/jaeger.pid"
    for _ in $(seq 1 150); do
      answers 2>/dev/null && break
      if ! kill -0 "$(cat "$DIR/jaeger.pid")" 2>/dev/null; then
        log "jaeger exited:"; tail -20 "$DIR/jaeger.log" >&2; exit 1
      fi
      sleep 0.2
    done
    answers || { log "jaeger did not answer within 30s"; tail -20 "$DIR/jaeger.log" >&2; exit 1; }
  fi
  echo "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$OTLP_HTTP"
  echo "JAEGER_QUERY_URL=http://127.0.0.1:$QUERY"
}

down() {
  if [[ -f "$DIR/jaeger.pid" ]]; then
    local pid
    pid="$(cat "$DIR/jaeger.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$DIR/jaeger.pid"
  fi
  log "stopped"
}

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down ;;
  status) answers ;;
  *) echo "usage: $0 build|up|down|status" >&2; exit 2 ;;
esac
