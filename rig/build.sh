#!/usr/bin/env bash
# Build every binary of the test control plane from published Go modules into a cache outside
# the work tree, skipping what is already cached. Nothing is fetched except through the Go module
# proxy (GOFLAGS=-mod=mod with GOPROXY as configured; no release downloads).
# Prints the bin directory on its last line (--dir: only print it, build nothing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
key="k8s-${KUBE_VERSION}_kwok-${KWOK_VERSION}_ms-${METRICS_SERVER_VERSION}_helm-${HELM_VERSION}"
BIN="${K8S_MCP_RIG_CACHE:-$HOME/.cache/k8s-mcp}/bin/$key"
if [[ "${1:-}" == "--dir" ]]; then echo "$BIN"; exit 0; fi
mkdir -p "$BIN"
export CGO_ENABLED=0 GOFLAGS=-trimpath
log() { printf '[rig-build %s] %s\n' "$(date +%T)" "$*" >&2; }

build_kube() {
  local want=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  local missing=()
  for b in "${want[@]}"; do [[ -x "$BIN/$b" ]] || missing+=("$b"); done
  local minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  local ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  for b in "${missing[@]}"; do
    log "building $b $KUBE_VERSION"
    (cd "$here/k8s" && go build -ldflags "$ld" -o "$BIN/$b.tmp" "k8s.io/kubernetes/cmd/$b") && mv "$BIN/$b.tmp" "$BIN/$b"
  done
  if [[ ! -x "$BIN/etcd" ]]; then
    log "building etcd (the version k8s $KUBE_VERSION pins)"
    (cd "$here/k8s" && go build -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3) && mv "$BIN/etcd.tmp" "$BIN/etcd"
  fi
}

install_tool() { # name module@version
  local name="$1" pkg="$2"
  [[ -x "$BIN/$name" ]] && return 0
  log "building $name from $pkg"
  GOBIN="$BIN" go install -ldflags "-s -w" "$pkg"
}

build_kube
install_tool kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
install_tool kwokctl "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
install_tool metrics-server "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"
install_tool helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
log "all binaries present in $BIN"
echo "$BIN"
