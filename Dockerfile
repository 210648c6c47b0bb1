# syntax=docker/dockerfile:1.7
# k8s-mcp image: Python 3.11 slim, the locked dependencies (uv.lock), the helm v3 binary, a
# non-root user (uid 10001) and nothing written outside /tmp, so it runs with a read-only root
# filesystem (compose `read_only: true`, the chart's readOnlyRootFilesystem).
#
#   docker build -t k8s-mcp:0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#
# Stages: helm (compiled from its Go module, checksummed by go.sum and the Go checksum database,
# on the build platform for the target one), build (uv sync --frozen into /app/.venv), runtime.
# Needs BuildKit (the default builder): cache mounts, COPY --chmod, --platform=$BUILDPLATFORM.

ARG PYTHON_IMAGE=docker.io/library/python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS helm
ARG HELM_VERSION=v3.22.0
ARG TARGETOS
ARG TARGETARCH
ENV CGO_ENABLED=0 GOFLAGS=-trimpath GOTOOLCHAIN=local
# The -X flags are those of helm's own Makefile: its version, and the Kubernetes version `helm template`
# assumes without a cluster (client-go v0.37 => 1.37). Native builds land in $GOPATH/bin, cross builds
# in $GOPATH/bin/<os>_<arch>: take whichever exists.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    k8s="-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37" \
 && k8s="$k8s -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37" \
 && GOOS="${TARGETOS}" GOARCH="${TARGETARCH}" \
      go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION} $k8s" \
      "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" \
 && mkdir -p /out \
 && find "$(go env GOPATH)/bin" -type f -name helm -exec cp {} /out/helm \; \
 && test -x /out/helm

# ---------------------------------------------------------------------------------------------
FROM ghcr.io/astral-sh/uv:0.13.8 AS uv

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first (a layer that changes only with uv.lock), then the project itself, not editable.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project
COPY README.md ./
COPY app ./app
# The asyncio copy of the kubernetes client (kubernetes/aio, ~68 MB) is never imported (app.kube uses
# the sync client), so it is left out of the image.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable \
 && rm -rf /app/.venv/lib/python3.11/site-packages/kubernetes/aio

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG PYTHON_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="k8s-mcp" \
      org.opencontainers.image.description="Kubernetes MCP server: cluster tools for AI agents over streamable HTTP" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"

# uid/gid 10001, no login shell, a home whose only content is the .kube mount point. Nothing below
# is writable: helm, the kubernetes client and Python write to /tmp only (see the ENV block).
# Not --system: that range ends at SYS_UID_MAX (999) and useradd warns about 10001. --no-log-init: no
# lastlog/faillog entries sized by the uid. The base image's installers (pip, setuptools, wheel) go:
# the server runs from its own venv and installs nothing.
RUN groupadd --gid 10001 app \
 && useradd --no-log-init --uid 10001 --gid 10001 --home-dir /home/app --no-create-home \
      --shell /usr/sbin/nologin app \
 && mkdir -p /home/app/.kube \
 && sp=/usr/local/lib/python3.11/site-packages \
 && rm -rf /usr/local/bin/pip /usr/local/bin/pip3* /usr/local/bin/wheel "$sp"/pip "$sp"/pip-*.dist-info \
           "$sp"/setuptools "$sp"/setuptools-*.dist-info "$sp"/pkg_resources "$sp"/wheel "$sp"/wheel-*.dist-info \
           "$sp"/_distutils_hack "$sp"/distutils-precedence.pth

ENV PATH=/app/.venv/bin:$PATH \
    HOME=/home/app \
    TMPDIR=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data \
    XDG_CACHE_HOME=/tmp/.cache \
    XDG_CONFIG_HOME=/tmp/.config \
    XDG_DATA_HOME=/tmp/.local/share

COPY --from=helm /out/helm /usr/local/bin/helm
COPY --from=build /app/.venv /app/.venv
COPY --chmod=0755 entrypoint.sh /app/entrypoint.sh

USER 10001:10001
WORKDIR /app
EXPOSE 8008
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import os,urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('MCP_PORT', '8008'), timeout=4)"]
ENTRYPOINT ["/app/entrypoint.sh"]
