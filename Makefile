# k8s-mcp: every developer and CI entry point. `make test` is exactly what CI runs.
SHELL := /bin/bash
# uv, pinned: used from PATH when present, else installed once into .tools/ (only Python 3.11 needed).
UV_VERSION := 0.13.8
export PATH := $(CURDIR)/.tools/bin:$(PATH)
UV ?= uv
PYTEST_ARGS ?=
export KUBECONFIG_TEST := $(CURDIR)/.cluster/kubeconfig
# The tests start the server about a hundred times; with PYTHONDONTWRITEBYTECODE set (some CI images set
# it) and a fresh venv, every start would compile the SDK and our modules from source again (about 1.5 s
# each). Bytecode goes to __pycache__ folders, which git and the image's build context ignore.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test lint unit integration conformance chart image image-test docker-down cluster-up cluster-down jaeger jaeger-down sync interop-deps oidc-deps conformance-deps clean uv

uv:
	@command -v $(UV) >/dev/null 2>&1 || { \
	  echo "installing uv $(UV_VERSION) into .tools/ (no uv on PATH)"; \
	  python3 -m venv .tools/venv && .tools/venv/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)" && \
	  mkdir -p .tools/bin && ln -sf ../venv/bin/uv .tools/bin/uv; }

sync: uv
	$(UV) sync --frozen

# The TypeScript SDK client of the interoperability test, at the versions in package-lock.json.
interop-deps:
	@[[ tests/interop/node_modules/.package-lock.json -nt tests/interop/package-lock.json ]] || \
	  npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error

# The official MCP conformance suite and the Node 22 it needs, at the versions in tests/conformance/package-lock.json.
conformance-deps:
	@[[ tests/conformance/node_modules/.package-lock.json -nt tests/conformance/package-lock.json ]] || \
	  npm ci --prefix tests/conformance --no-audit --no-fund --loglevel=error

# The test rig's OpenID provider (oidc-provider), at the versions in rig/oidc/package-lock.json.
oidc-deps:
	@[[ rig/oidc/node_modules/.package-lock.json -nt rig/oidc/package-lock.json ]] || \
	  npm ci --prefix rig/oidc --no-audit --no-fund --loglevel=error

run: sync
	@./rig/run.sh

lint: sync
	$(UV) run ruff check app tests bench
	$(UV) run ruff format --check app tests bench
	$(UV) run mypy
	$(UV) run lint-imports

unit: sync
	$(UV) run pytest tests/unit -q $(PYTEST_ARGS)

integration: sync interop-deps oidc-deps cluster-up jaeger
	K8S_MCP_TEST_KUBECONFIG=$(KUBECONFIG_TEST) $(UV) run pytest tests/integration -q $(PYTEST_ARGS)

# The official MCP conformance suite against the server on the test control plane; the scenarios that need
# the suite's own fixture tools, prompts and resources are listed in tests/conformance/baseline.yml.
conformance: sync conformance-deps cluster-up
	K8S_MCP_TEST_KUBECONFIG=$(KUBECONFIG_TEST) UV=$(UV) ./tests/conformance/run.sh

# Dockerfile (hadolint), compose, shell scripts, the chart (lint, template, schema, server-side dry run).
chart: sync cluster-up
	K8S_MCP_TEST_KUBECONFIG=$(KUBECONFIG_TEST) ./rig/chart-checks.sh

# The image from the unmodified Dockerfile. Where no image registry is reachable, the base images it
# names are made locally first (rig/base-images.sh; only those the engine lacks). With registries:
# `make image BASE_IMAGES=registry` lets the build pull the real ones.
IMAGE ?= k8s-mcp:local
BASE_IMAGES ?= local
image:
	./rig/docker.sh up
	@[[ "$(BASE_IMAGES)" == registry ]] || ./rig/base-images.sh
	./rig/docker.sh docker build --network "$$(./rig/docker.sh build-network)" -t $(IMAGE) \
	  --build-arg REVISION="$$(git rev-parse HEAD 2>/dev/null || echo unknown)" .

# The image run with docker-compose.yml (+ tests/image/compose.test.yml) against the test control plane,
# checked with the MCP SDK client (tests/image).
image-test: sync image cluster-up
	K8S_MCP_TEST_KUBECONFIG=$(KUBECONFIG_TEST) K8S_MCP_IMAGE=$(IMAGE) $(UV) run pytest tests/image -q $(PYTEST_ARGS)

# Stops the Docker engine only if rig/docker.sh started it.
docker-down:
	./rig/docker.sh down

test: lint unit integration conformance chart image-test

cluster-up:
	./rig/cluster.sh up

cluster-down:
	./rig/cluster.sh down
	./rig/oidc.sh down

# The tracing backend of the trace tests (Jaeger v2 from its Go module, cached); the tests start it.
jaeger:
	@./rig/jaeger.sh build >/dev/null

jaeger-down:
	./rig/jaeger.sh down

clean: cluster-down docker-down jaeger-down
	./rig/oidc.sh clean
	rm -rf .tools .venv .pytest_cache .mypy_cache .ruff_cache tests/interop/node_modules tests/conformance/node_modules rig/oidc/node_modules
