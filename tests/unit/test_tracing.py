"""Tracing configuration from the standard OTEL_* variables: off unless asked for, bad values refused in one line."""

from __future__ import annotations

import re

import pytest

from app import tracing
from app.errors import ConfigError


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"OTEL_SERVICE_NAME": "k8s-mcp"},  # naming the service asks for no exporter
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"},
    ],
)
def test_tracing_stays_off_and_spans_cost_nothing_unless_an_exporter_is_asked_for(environ: dict[str, str]) -> None:
    assert tracing.configure(environ) is None
    assert not tracing.enabled() and not tracing.in_trace()
    assert tracing.span("anything") is tracing.NO_SPAN


@pytest.mark.parametrize(
    ("environ", "msg"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER: 'zipkin' is not one of otlp, console, none"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
            "OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' is not one of http/protobuf, grpc",
        ),
    ],
)
def test_an_unsupported_exporter_or_protocol_stops_the_start_with_one_line(environ: dict[str, str], msg: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(msg)):
        tracing.configure(environ)
    assert not tracing.enabled()


def test_the_console_exporter_is_refused_on_stdio_where_stdout_is_the_protocol() -> None:
    with pytest.raises(ConfigError, match="stdio transport"):
        tracing.configure({"OTEL_TRACES_EXPORTER": "console"}, stdout_is_protocol=True)


def test_a_parent_comes_from_meta_before_the_http_header_and_never_from_garbage() -> None:
    meta_parent = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    header_parent = "00-" + "c" * 32 + "-" + "d" * 16 + "-01"
    from opentelemetry import trace

    def trace_id(ctx: object) -> str:
        return format(trace.get_current_span(ctx).get_span_context().trace_id, "032x")  # type: ignore[arg-type]

    assert trace_id(tracing.parent_context({"traceparent": meta_parent}, {"traceparent": header_parent})) == "a" * 32
    assert trace_id(tracing.parent_context({}, {"traceparent": header_parent})) == "c" * 32
    assert trace_id(tracing.parent_context({"traceparent": "junk"}, {"traceparent": header_parent})) == "c" * 32
    fresh = tracing.parent_context(None, {"traceparent": "00-zz"})
    assert not trace.get_current_span(fresh).get_span_context().is_valid
