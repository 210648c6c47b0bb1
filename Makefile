# k8s-mcp: every developer and CI entry point. `make test` is exactly what CI runs.
SHELL := /bin/bash
# uv, pinned: used from PATH when present, else installed once into .tools/ (only Python 3.11 needed).
UV_VERSION := 0.13.8
export PATH := $(CURDIR)/.tools/bin:$(PATH)
UV ?= uv
PYTEST_ARGS ?=
export KUBECONFIG_TEST := $(CURDIR)/.cluster/kubeconfig

.PHONY: run test lint unit integration chart cluster-up cluster-down sync interop-deps oidc-deps clean uv

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

integration: sync interop-deps oidc-deps cluster-up
	K8S_MCP_TEST_KUBECONFIG=$(KUBECONFIG_TEST) $(UV) run pytest tests/integration -q $(PYTEST_ARGS)

# Dockerfile (hadolint), compose, shell scripts, the chart (lint, template, schema, server-side dry run).
chart: sync cluster-up
	K8S_MCP_TEST_KUBECONFIG=$(KUBECONFIG_TEST) ./rig/chart-checks.sh

test: lint unit integration chart

cluster-up:
	./rig/cluster.sh up

cluster-down:
	./rig/cluster.sh down
	./rig/oidc.sh down

clean: cluster-down
	./rig/oidc.sh clean
	rm -rf .tools .venv .pytest_cache .mypy_cache .ruff_cache tests/interop/node_modules rig/oidc/node_modules
