#!/usr/bin/env bash
# Local stand-ins for the images the Dockerfile names, for a build machine that reaches package
# indexes (Debian, PyPI, the Go module proxy) but no image registry. Each tag is read from the
# Dockerfile and made only when the engine does not have it; an image of that tag that this script
# did not make (a real one, pulled) is never replaced. Needs root (debootstrap, chroot) and an engine
# (rig/docker.sh up); installs debootstrap with apt-get when missing. About 2 minutes and 1 GB the first time; seconds afterwards.
#
#   rig/base-images.sh          make what is missing (or made by an older version of this script)
#   rig/base-images.sh --list   print the tags the Dockerfile needs
#
# What each stand-in is:
#   python:3.11-slim-bookworm   Debian bookworm (debootstrap --variant=minbase) with the runtime libraries
#                               the official slim image installs, and this machine's CPython 3.11 moved
#                               to /usr/local as in the official image (stdlib, pip, setuptools)
#   golang:1.26-bookworm        the same Debian root and this machine's Go toolchain in /usr/local/go,
#                               GOPATH=/go, GOTOOLCHAIN=local
#   ghcr.io/astral-sh/uv:X.Y.Z  only /uv and /uvx, taken from the uv wheel of that version on PyPI
#   docker/dockerfile:1.7       the `# syntax=` frontend, compiled from BuildKit's Go module
#
# Trust: when this machine reaches the internet through a TLS-intercepting proxy, its extra CA
# certificates ($K8S_MCP_EXTRA_CA_DIR, default /usr/local/share/ca-certificates) are added to the
# Debian root of the stand-ins, and the python stand-in sets SSL_CERT_FILE (uv reads it). That is a
# property of this build network, so it lives here and never in the project's Dockerfile.
# K8S_MCP_EXTRA_CA_DIR= (empty) adds nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
CACHE="${K8S_MCP_RIG_CACHE:-$HOME/.cache/k8s-mcp}/base-images"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
EXTRA_CA_DIR="${K8S_MCP_EXTRA_CA_DIR-/usr/local/share/ca-certificates}"
BUILDKIT_VERSION="${BUILDKIT_VERSION:-v0.13.2}" # its dockerfile frontend is the 1.7 syntax
DOCKERFILE="$root/Dockerfile"
# The runtime libraries of the official python:*-slim-bookworm image (its Dockerfile's apt-get line).
PY_DEBS=ca-certificates,netbase,tzdata,libbz2-1.0,libexpat1,libffi8,liblzma5,libncursesw6,libnsl2,libreadline8,libsqlite3-0,libssl3,libtirpc3,libuuid1,zlib1g
log() { printf '[rig-base-images %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "$*"; exit 1; }
docker() { "$here/docker.sh" docker "$@"; }
sudo_() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# --- the tags, from the Dockerfile ---------------------------------------------------------------
SYNTAX_TAG="$(sed -n '1s/^# *syntax=//p' "$DOCKERFILE")"
PY_TAG="$(sed -n 's/^ARG PYTHON_IMAGE=//p' "$DOCKERFILE" | head -n1)"
GO_TAG="$(awk '$1 == "FROM" { for (i = 2; i <= NF; i++) if ($i ~ /(^|\/)golang:/) print $i }' "$DOCKERFILE" | head -n1)"
UV_TAG="$(awk '$1 == "FROM" { for (i = 2; i <= NF; i++) if ($i ~ /astral-sh\/uv:/) print $i }' "$DOCKERFILE" | head -n1)"
[[ -n "$PY_TAG" && -n "$GO_TAG" && -n "$UV_TAG" ]] || die "cannot find the python, golang and uv images in $DOCKERFILE"
if [[ "${1:-}" == "--list" ]]; then printf '%s\n' "$PY_TAG" "$GO_TAG" "$UV_TAG" ${SYNTAX_TAG:+"$SYNTAX_TAG"}; exit 0; fi

short() { local t="${1#docker.io/}"; echo "${t#library/}"; } # how the engine lists a Docker Hub name
PY_MINOR="$(short "$PY_TAG" | sed -nE 's/^python:([0-9]+\.[0-9]+).*/\1/p')"
GO_MINOR="$(short "$GO_TAG" | sed -nE 's/^golang:([0-9]+\.[0-9]+).*/\1/p')"
UV_VERSION="${UV_TAG##*:}"
[[ -n "$PY_MINOR" && -n "$GO_MINOR" ]] || die "unexpected tags $PY_TAG / $GO_TAG"

mkdir -p "$CACHE/stamps"
ca_files() { [[ -n "$EXTRA_CA_DIR" ]] && compgen -G "$EXTRA_CA_DIR/*.crt" || true; }
# A stand-in is remade when this script or the CA files change; the Debian root when its packages or
# the CA files do.
RECIPE="$( { cat "$0"; ca_files | xargs -r cat; } | sha256sum | cut -c1-16)"
ROOT_RECIPE="$( { echo "$SUITE $PY_DEBS"; ca_files | xargs -r cat; } | sha256sum | cut -c1-16)"
stamp_of() { echo "$CACHE/stamps/$(echo "$1" | tr '/:' '__')"; }
image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

needed() { # tag: 0 when a stand-in must be made
  local id stamp; id="$(image_id "$1")"; stamp="$(stamp_of "$1")"
  [[ -z "$id" ]] && return 0
  if [[ -f "$stamp" ]] && [[ "$(cut -d' ' -f2 "$stamp")" == "$id" ]]; then
    [[ "$(cut -d' ' -f1 "$stamp")" != "$RECIPE" ]] # ours: remake when the recipe changed
    return
  fi
  log "$1 is present and was not made here: using it as it is"
  return 1
}
stamp() { echo "$RECIPE $(image_id "$1")" >"$(stamp_of "$1")"; }

# --- the Debian root shared by the python and golang stand-ins -----------------------------------
debian_root() {
  local dir="$CACHE/rootfs-$SUITE" mark="$CACHE/rootfs-$SUITE.$ROOT_RECIPE"
  [[ -f "$mark" ]] && return 0
  if ! command -v debootstrap >/dev/null 2>&1 && [[ ! -x /usr/sbin/debootstrap ]]; then
    command -v apt-get >/dev/null 2>&1 || die "debootstrap is missing and there is no apt-get to install it"
    log "installing debootstrap (apt-get)"
    sudo_ apt-get update -q >/dev/null
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null
  fi
  log "debootstrap --variant=minbase $SUITE (once)"
  sudo_ rm -rf "$dir" "$CACHE"/rootfs-"$SUITE".*
  sudo_ env PATH="/usr/sbin:/sbin:$PATH" debootstrap --variant=minbase --include="$PY_DEBS" "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log $CACHE/debootstrap.log)"; }
  local crt
  while read -r crt; do
    [[ -n "$crt" ]] && sudo_ cp "$crt" "$dir/usr/local/share/ca-certificates/"
  done < <(ca_files)
  sudo_ chroot "$dir" update-ca-certificates >/dev/null
  sudo_ chroot "$dir" apt-get clean
  sudo_ rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/log/*.log "$dir"/var/log/apt/* "$dir/etc/hostname"
  sudo_ truncate -s 0 "$dir/etc/resolv.conf"
  touch "$mark"
}

import_dir() { # dir tag --change...: the directory's content as a one-layer image
  local dir="$1" tag="$2"; shift 2
  sudo_ tar -C "$dir" --numeric-owner -c . | docker import "$@" - "$tag" >/dev/null
}

# --- python -------------------------------------------------------------------------------------
python_image() {
  local py src work L ver
  py="${K8S_MCP_STANDIN_PYTHON:-python$PY_MINOR}"
  command -v "$py" >/dev/null 2>&1 || die "no $py on this machine for the $PY_TAG stand-in"
  src="$("$py" -c 'import sys; print(sys.base_prefix)')"
  [[ -x "$src/bin/python$PY_MINOR" && -f "$src/lib/python$PY_MINOR/os.py" ]] ||
    die "$py (prefix $src) does not have the prefix layout bin/python$PY_MINOR, lib/python$PY_MINOR (set K8S_MCP_STANDIN_PYTHON)"
  log "making $PY_TAG from $src"
  work="$CACHE/work-python"; L="$work/usr/local"
  sudo_ rm -rf "$work" && sudo_ cp -a "$CACHE/rootfs-$SUITE" "$work"
  sudo_ mkdir -p "$L/bin" "$L/lib/python$PY_MINOR/site-packages"
  sudo_ cp -a "$src/bin/python$PY_MINOR" "$L/bin/"
  compgen -G "$src/lib/libpython3*.so*" >/dev/null && sudo_ cp -a "$src"/lib/libpython3*.so* "$L/lib/"
  [[ -d "$src/include/python$PY_MINOR" ]] && sudo_ mkdir -p "$L/include" && sudo_ cp -a "$src/include/python$PY_MINOR" "$L/include/"
  # The standard library as the official image ships it: no tests, no Tk, no bytecode, no static library.
  tar -C "$src/lib" -c --exclude="python$PY_MINOR/site-packages" --exclude=test --exclude=tests \
    --exclude=idle_test --exclude=idlelib --exclude=tkinter --exclude=turtledemo --exclude='_tkinter*.so' \
    --exclude=__pycache__ --exclude='*.pyc' --exclude='*.a' "python$PY_MINOR" | sudo_ tar -C "$L/lib" -x
  # site-packages: the installers only, as in the official image.
  local sp="$src/lib/python$PY_MINOR/site-packages" keep=() g f
  for g in pip 'pip-*.dist-info' setuptools 'setuptools-*.dist-info' pkg_resources wheel 'wheel-*.dist-info' \
    _distutils_hack distutils-precedence.pth; do
    for f in "$sp"/$g; do [[ -e "$f" ]] && keep+=("${f##*/}"); done
  done
  ((${#keep[@]})) && tar -C "$sp" -c --exclude=__pycache__ "${keep[@]}" | sudo_ tar -C "$L/lib/python$PY_MINOR/site-packages" -x
  sudo_ ln -sf "python$PY_MINOR" "$L/bin/python3"
  sudo_ ln -sf python3 "$L/bin/python"
  local s
  for s in pip pip3 "pip$PY_MINOR"; do
    printf '#!/usr/local/bin/python%s\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n' "$PY_MINOR" |
      sudo_ tee "$L/bin/$s" >/dev/null
    sudo_ chmod 755 "$L/bin/$s"
  done
  sudo_ chroot "$work" ldconfig
  sudo_ chroot "$work" "/usr/local/bin/python$PY_MINOR" -c \
    'import sys, ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, decimal, json; assert sys.prefix == "/usr/local", sys.prefix' ||
    die "the relocated Python does not work"
  ver="$(sudo_ chroot "$work" "/usr/local/bin/python$PY_MINOR" -c 'import platform; print(platform.python_version())')"
  local changes=(--change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin'
    --change 'ENV LANG=C.UTF-8' --change "ENV PYTHON_VERSION=$ver" --change 'CMD ["python3"]')
  [[ -n "$(ca_files)" ]] && changes+=(--change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt')
  import_dir "$work" "$PY_TAG" "${changes[@]}"
  sudo_ rm -rf "$work"
  stamp "$PY_TAG"
}

# --- golang -------------------------------------------------------------------------------------
go_image() {
  local goroot gover work
  command -v go >/dev/null 2>&1 || die "no Go on this machine for the $GO_TAG stand-in"
  goroot="$(go env GOROOT)"; gover="$(go env GOVERSION)"
  [[ "$gover" == "go$GO_MINOR" || "$gover" == go"$GO_MINOR".* ]] || die "$GO_TAG needs Go $GO_MINOR; this machine has $gover"
  log "making $GO_TAG from $goroot ($gover)"
  work="$CACHE/work-go"
  sudo_ rm -rf "$work" && sudo_ cp -a "$CACHE/rootfs-$SUITE" "$work"
  sudo_ mkdir -p "$work/usr/local/go" "$work/go/bin" "$work/go/src"
  tar -C "$goroot" -c --exclude=./test . | sudo_ tar -C "$work/usr/local/go" -x
  sudo_ chmod -R 1777 "$work/go"
  import_dir "$work" "$GO_TAG" \
    --change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV GOLANG_VERSION=${gover#go}" --change 'ENV GOTOOLCHAIN=local' --change 'ENV GOPATH=/go' \
    --change 'WORKDIR /go'
  sudo_ rm -rf "$work"
  stamp "$GO_TAG"
}

# --- uv -----------------------------------------------------------------------------------------
uv_image() {
  local wheels="$CACHE/wheels" work="$CACHE/work-uv" whl
  log "making $UV_TAG from the uv $UV_VERSION wheel"
  mkdir -p "$wheels"
  whl="$(compgen -G "$wheels/uv-$UV_VERSION-*.whl" | head -n1 || true)"
  if [[ -z "$whl" ]]; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform "manylinux2014_$(uname -m)" \
      --dest "$wheels" "uv==$UV_VERSION"
    whl="$(compgen -G "$wheels/uv-$UV_VERSION-*.whl" | head -n1)"
  fi
  rm -rf "$work" && mkdir -p "$work"
  python3 - "$whl" "$work" <<'EOF'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if name.endswith(("/scripts/uv", "/scripts/uvx")):
            target = os.path.join(sys.argv[2], os.path.basename(name))
            with open(target, "wb") as f:
                f.write(z.read(name))
            os.chmod(target, 0o755)
EOF
  [[ "$("$work/uv" --version)" == "uv $UV_VERSION"* ]] || die "the wheel's uv is not $UV_VERSION"
  import_dir "$work" "$UV_TAG" --change 'ENTRYPOINT ["/uv"]'
  rm -rf "$work"
  stamp "$UV_TAG"
}

# --- the dockerfile frontend --------------------------------------------------------------------
frontend_image() {
  local bin="${K8S_MCP_RIG_CACHE:-$HOME/.cache/k8s-mcp}/bin/dockerfile-frontend-$BUILDKIT_VERSION"
  local work="$CACHE/work-frontend"
  if [[ ! -x "$bin/dockerfile-frontend" ]]; then
    log "building the dockerfile frontend from github.com/moby/buildkit@$BUILDKIT_VERSION (once)"
    mkdir -p "$bin"
    (cd "$CACHE" && GOBIN="$bin" CGO_ENABLED=0 go install -trimpath -tags "netgo static_build osusergo" \
      -ldflags "-s -w" "github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend@$BUILDKIT_VERSION")
  fi
  log "making $SYNTAX_TAG"
  rm -rf "$work" && mkdir -p "$work/bin" && cp "$bin/dockerfile-frontend" "$work/bin/"
  import_dir "$work" "$SYNTAX_TAG" --change 'ENTRYPOINT ["/bin/dockerfile-frontend"]' \
    --change 'LABEL moby.buildkit.frontend.network.none="true"' \
    --change 'LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"'
  rm -rf "$work"
  stamp "$SYNTAX_TAG"
}

"$here/docker.sh" status || die "no Docker engine answers (rig/docker.sh up)"
if needed "$PY_TAG" || needed "$GO_TAG"; then debian_root; fi
if needed "$PY_TAG"; then python_image; fi
if needed "$GO_TAG"; then go_image; fi
if needed "$UV_TAG"; then uv_image; fi
if [[ -n "$SYNTAX_TAG" ]] && needed "$SYNTAX_TAG"; then frontend_image; fi
log "base images ready: $PY_TAG $GO_TAG $UV_TAG${SYNTAX_TAG:+ $SYNTAX_TAG}"
