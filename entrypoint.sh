#!/bin/sh
# Container entrypoint: check the cluster credentials the server will use, print one line about
# them on stderr (context, server, auth method; never a secret), then become the server.
#
#   entrypoint.sh [k8s-mcp options]   preflight check, then exec k8s-mcp with the same options
#   entrypoint.sh --help              the server's help, no check
#   entrypoint.sh COMMAND [ARGS]      run another command (helm, python, sh ...) instead
#
# A bad configuration (unreadable kubeconfig, unknown --context, a certificate file or an exec
# plugin missing from the image, no service account token) stops here with the reason and exit 1.
# K8S_MCP_SKIP_PREFLIGHT=true skips the check (the server then starts and reports per call).
set -eu

case "${1:-}" in
  "" | -*) ;;
  *) exec "$@" ;;
esac

for arg in "$@"; do
  case "$arg" in
    -h | --help) exec k8s-mcp "$@" ;;
  esac
done

if [ "${K8S_MCP_SKIP_PREFLIGHT:-false}" != "true" ]; then
  k8s-mcp-preflight "$@"
fi
exec k8s-mcp "$@"
