"""JSON logs, the audit trail and Prometheus metrics: how an operator sees what the server does.

Every log line carries the ``correlation_id`` and ``session_id`` of the request scope (``app.scope``),
so one id ties the HTTP request, the MCP session, the tool call and the API calls together. With
tracing on, each line also carries the ``trace_id`` of the OpenTelemetry span it was written under
("-" outside a trace), so a log line leads to its trace and back.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pythonjsonlogger.json import JsonFormatter

from app.scope import correlation_id, session_id

audit_log = logging.getLogger("k8s_mcp.audit")


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        record.session_id = session_id.get()
        span = trace.get_current_span().get_span_context()
        record.trace_id = format(span.trace_id, "032x") if span.is_valid else "-"
        return True


class _ScrubbingJsonFormatter(JsonFormatter):
    """JSON lines whose every field (message, audit fields, exception text) went through ``scrub``."""

    def __init__(self, *args: Any, scrub: Callable[[Any], Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scrub = scrub

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        scrubbed: dict[str, Any] = self.scrub(log_data)
        return scrubbed


def configure_logging(level: str, stream: Any = None, scrub: Callable[[Any], Any] | None = None) -> None:
    """One JSON object per line on stderr (stdout belongs to the stdio transport).

    ``scrub`` (the caller passes ``redaction.scrub_json``; this layer sits below redaction) cleans every
    field of every line, so no log line or audit line carries a credential, whatever a caller logged.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(
        _ScrubbingJsonFormatter(
            "{asctime}{levelname}{name}{message}{correlation_id}{session_id}{trace_id}",
            style="{",
            rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            scrub=scrub or (lambda data: data),
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would duplicate ours without the correlation id; keep its errors.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # The SDK logs every request at INFO; keep the signal, lose the noise.
    logging.getLogger("mcp").setLevel(max(logging.getLevelName(level), logging.WARNING))
    logging.getLogger("httpx").setLevel(logging.WARNING)


class Metrics:
    """The Prometheus series we expose on /metrics, in a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.tool_calls = Counter(
            "k8s_mcp_tool_calls_total",
            "Tool calls by tool and outcome",
            ["tool", "outcome"],
            registry=self.registry,
        )
        self.tool_latency = Histogram(
            "k8s_mcp_tool_duration_seconds",
            "Tool call latency",
            ["tool"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.kube_calls = Counter(
            "k8s_mcp_kube_api_calls_total",
            "Kubernetes API calls by verb and HTTP status",
            ["verb", "status"],
            registry=self.registry,
        )
        self.helm_calls = Counter(
            "k8s_mcp_helm_calls_total",
            "Helm commands run by command (list, install, ...) and outcome",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.helm_latency = Histogram(
            "k8s_mcp_helm_duration_seconds",
            "Helm command latency",
            ["command"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
        )
        self.resource_reads = Counter(
            "k8s_mcp_resource_reads_total",
            "MCP resource reads by resource (template) and outcome",
            ["resource", "outcome"],
            registry=self.registry,
        )
        self.prompt_gets = Counter(
            "k8s_mcp_prompt_gets_total",
            "MCP prompt renders by prompt and outcome",
            ["prompt", "outcome"],
            registry=self.registry,
        )
        self.inflight = Gauge("k8s_mcp_inflight_tool_calls", "Tool calls in progress", registry=self.registry)
        self.open_sessions = Gauge("k8s_mcp_open_sessions", "Open MCP sessions (2025-era)", registry=self.registry)
        self.inflight_requests = Gauge(
            "k8s_mcp_inflight_requests",
            "MCP HTTP requests in progress on this replica (POST and DELETE; standing GET streams not counted)",
            registry=self.registry,
        )
        self.draining = Gauge(
            "k8s_mcp_draining",
            "1 while this replica shuts down (unready, finishing in-flight requests)",
            registry=self.registry,
        )
        self.stream_events = Gauge(
            "k8s_mcp_stream_events_stored",
            "SSE events kept for 2025-era clients that reconnect with Last-Event-ID (all sessions)",
            registry=self.registry,
        )
        self.stream_event_bytes = Gauge(
            "k8s_mcp_stream_event_bytes_stored",
            "Size of the SSE events kept for replay (all sessions, JSON bytes)",
            registry=self.registry,
        )
        self.resource_watches = Gauge(
            "k8s_mcp_resource_watches",
            "Kubernetes watches open for resource subscriptions (one per caller and object, shared by sessions)",
            registry=self.registry,
        )
        self.resource_subscriptions = Gauge(
            "k8s_mcp_resource_subscriptions",
            "Live resource subscriptions (2025 sessions and 2026 listen streams)",
            registry=self.registry,
        )
        self.ledger_records = Counter(
            "k8s_mcp_approval_ledger_total",
            "Approval tokens offered to the shared ledger, by outcome (recorded, replay, unavailable)",
            ["outcome"],
            registry=self.registry,
        )
        self.ledger_swept = Counter(
            "k8s_mcp_approval_records_swept_total",
            "Expired approval records this replica deleted from the state namespace",
            registry=self.registry,
        )


def audit(event: str, **fields: Any) -> None:
    """One audit line; callers pass arguments already redacted (and the log formatter scrubs every field)."""
    audit_log.info(event, extra={"audit": True, **fields})
