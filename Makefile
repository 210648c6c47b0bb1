# k8s-mcp: every developer and CI entry point. `make test` is exactly what CI runs.
SHELL := /bin/bash
UV ?= uv
PYTEST_ARGS ?=
export KUBECONFIG_TEST := $(CURDIR)/.cluster/kubeconfig

.PHONY: run test lint unit integration chart cluster-up cluster-down sync interop-deps clean

sync:
	$(UV) sync --frozen

# The TypeScript SDK client of the interoperability test, at the versions in package-lock.json.
interop-deps:
	@[[ tests/interop/node_modules/.package-lock.json -nt tests/interop/package-lock.json ]] || \
	  npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error

run: sync
	@./rig/run.sh

lint: sync
	$(UV) run ruff check app tests bench
	$(UV) run ruff format --check app tests bench
	$(UV) run mypy
	$(UV) run lint-imports

unit: sync
	$(UV) run pytest tests/unit -q $(PYTEST_ARGS)

integration: sync interop-deps cluster-up
	K8S_MCP_TEST_KUBECONFIG=$(KUBECONFIG_TEST) $(UV) run pytest tests/integration -q $(PYTEST_ARGS)

# Dockerfile (hadolint), compose, shell scripts, the chart (lint, template, schema, server-side dry run).
chart: sync cluster-up
	K8S_MCP_TEST_KUBECONFIG=$(KUBECONFIG_TEST) ./rig/chart-checks.sh

test: lint unit integration chart

cluster-up:
	./rig/cluster.sh up

cluster-down:
	./rig/cluster.sh down

clean: cluster-down
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache tests/interop/node_modules
