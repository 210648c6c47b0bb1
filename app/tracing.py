"""OpenTelemetry tracing: one trace per MCP request, across replicas, the server and the API server.

Configured only by the standard ``OTEL_*`` environment variables, so a platform team points it at
its collector the way it does for every other service: tracing is on when an OTLP endpoint
(``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) or an exporter
(``OTEL_TRACES_EXPORTER=otlp|console``) is set and ``OTEL_SDK_DISABLED`` is not true. Otherwise it
is off, and free: ``span`` hands back one shared no-op context manager and nothing else runs.

The SDK (``mcp``) opens the server span of each MCP message (``tools/call pods_get``), parented on the
``traceparent`` in the request's ``_meta`` when there is one; the transport supplies the parent from
the HTTP ``traceparent`` header otherwise (see ``parent_context``). Below it we add the tool call,
each Kubernetes API call and each Helm subprocess. Callers pass attributes that are already free of
secrets (arguments redacted like the audit line); exceptions are never recorded with their stack.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, StatusCode

from app.errors import ConfigError

SERVICE_NAME = "k8s-mcp"
_PROTOCOLS = ("http/protobuf", "grpc")
#: What ``span`` returns when tracing is off: one shared no-op context manager.
NO_SPAN: AbstractContextManager[None] = contextlib.nullcontext()

_tracer: trace.Tracer | None = None
_provider: Any = None


def enabled() -> bool:
    return _tracer is not None


def in_trace() -> bool:
    """Tracing is on and a span is current: work done now belongs to a request's trace. Background work
    (readiness probes, the ledger's sweeps) runs outside any trace and makes no spans of its own."""
    return _tracer is not None and trace.get_current_span().get_span_context().is_valid


def _wanted(environ: Mapping[str, str]) -> list[str]:
    """The exporters the environment asks for; empty when tracing stays off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = environ.get("OTEL_TRACES_EXPORTER")
    if named is None:
        endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        return ["otlp"] if endpoint else []
    names = [n.strip().lower() for n in named.split(",") if n.strip()]
    if "none" in names:
        return []
    unknown = [n for n in names if n not in {"otlp", "console"}]
    if unknown:
        raise ConfigError(f"invalid setting OTEL_TRACES_EXPORTER: {unknown[0]!r} is not one of otlp, console, none")
    return names


def _exporter(name: str, environ: Mapping[str, str]) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or _PROTOCOLS[0]
    ).strip()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        return HttpExporter()
    raise ConfigError(
        f"invalid setting OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} is not one of {', '.join(_PROTOCOLS)}"
    )


def configure(
    environ: Mapping[str, str] | None = None, *, version: str = "", stdout_is_protocol: bool = False
) -> str | None:
    """Install the tracer provider the environment asks for; returns a one-line description, or None (off).

    Exporters, sampler (``OTEL_TRACES_SAMPLER``), batching (``OTEL_BSP_*``), endpoint, headers, TLS and
    timeouts all come from the standard variables, read by the OpenTelemetry SDK itself.
    """
    global _tracer, _provider
    environ = os.environ if environ is None else environ
    names = _wanted(environ)
    if not names:
        return None
    if stdout_is_protocol and "console" in names:
        raise ConfigError("OTEL_TRACES_EXPORTER=console writes to stdout, which the stdio transport speaks on")
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporters = [_exporter(name, environ) for name in names]
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (read by Resource.create) win over our defaults.
    detected = Resource.create()
    attributes = dict(detected.attributes)
    if str(attributes.get("service.name", "")).startswith("unknown_service"):
        attributes["service.name"] = SERVICE_NAME
    attributes.setdefault("service.instance.id", f"{socket.gethostname()}-{os.getpid()}")
    if version:
        attributes.setdefault("service.version", version)
    resource = Resource(attributes, detected.schema_url)
    provider = TracerProvider(resource=resource)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _provider = provider
    _tracer = provider.get_tracer("k8s-mcp", version or None)
    service = resource.attributes.get("service.name", SERVICE_NAME)
    return f"tracing on: {', '.join(names)} exporter, service.name {service}"


def shutdown() -> None:
    """Flush and stop the exporters (at exit), so the last spans are not lost."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer, _provider = None, None


def span(
    name: str, *, kind: SpanKind = SpanKind.INTERNAL, attributes: Mapping[str, Any] | None = None
) -> AbstractContextManager[Span | None]:
    """A child span of the current one, made current inside the block; one shared no-op when tracing is off."""
    if _tracer is None:
        return NO_SPAN
    return _tracer.start_as_current_span(
        name,
        kind=kind,
        attributes={k: v for k, v in (attributes or {}).items() if v is not None},
        record_exception=False,
        set_status_on_exception=False,
    )


def set_attributes(current: Span | None, attributes: Mapping[str, Any]) -> None:
    if current is not None:
        current.set_attributes({k: v for k, v in attributes.items() if v is not None})


def mark_error(current: Span | None, error_type: str, description: str | None = None) -> None:
    """Mark a span failed with the error's type and, when given, a description already free of secrets."""
    if current is not None:
        current.set_attribute("error.type", error_type)
        current.set_status(StatusCode.ERROR, description)


def parent_context(meta: Mapping[str, Any] | None, headers: Mapping[str, str] | None) -> otel_context.Context:
    """The parent of an MCP request's trace: the W3C ``traceparent`` of the request's ``_meta``, else the
    HTTP request's, else none (a new trace, never whatever context the session's task happened to carry)."""
    for carrier in (meta, headers):
        if not carrier:
            continue
        try:
            extracted = propagate.extract(carrier)
        except (ValueError, TypeError):
            continue
        if trace.get_current_span(extracted).get_span_context().is_valid:
            return extracted
    return otel_context.Context()


def attach(ctx: otel_context.Context) -> object:
    return otel_context.attach(ctx)


def detach(token: object) -> None:
    otel_context.detach(token)  # type: ignore[arg-type]
