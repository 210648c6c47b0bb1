"""One frozen Settings object, built once at start from CLI > env > config file (YAML) > defaults.

Every setting is declared once, as a field of ``Settings`` with its description and environment
variable; the CLI (``k8s-mcp --help``), the env lookup and the config-file keys are all derived from
that declaration, so they cannot drift apart. A bad value stops the start with one line that names
the setting and its env var.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from app.errors import ConfigError
from app.rules import RuleBook, load_rules

DEFAULT_ALLOWED_HOSTS = (
    "localhost",
    "127.0.0.1",
    "[::1]",
    "k8s-mcp",
    "host.docker.internal",
    "*.svc",
    "*.svc.cluster.local",
)
DEFAULT_ALLOWED_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*", "https://localhost:*")


def _env(name: str) -> dict[str, Any]:
    return {"env": name}


class Settings(BaseModel):
    """Everything the server can be told. Field order is the order of ``--help``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("0.0.0.0", description="Address to listen on", json_schema_extra=_env("K8S_MCP_HOST"))
    port: int = Field(8008, ge=1, le=65535, description="Port to listen on", json_schema_extra=_env("MCP_PORT"))
    transport: Literal["http", "stdio"] = Field(
        "http",
        description="http: streamable HTTP on /mcp; stdio: for desktop clients that launch the server",
        json_schema_extra=_env("K8S_MCP_TRANSPORT"),
    )
    kubeconfig: str | None = Field(
        None,
        description="Kubeconfig file (default ~/.kube/config; in-cluster service account when absent)",
        json_schema_extra=_env("KUBECONFIG"),
    )
    context: str | None = Field(
        None,
        description="Default kubeconfig context (default: the file's current-context)",
        json_schema_extra=_env("K8S_MCP_CONTEXT"),
    )
    in_cluster: Literal["auto", "true", "false"] = Field(
        "auto",
        description="Use the pod's service account: auto = when KUBERNETES_SERVICE_HOST is set and no "
        "kubeconfig file exists",
        json_schema_extra=_env("K8S_MCP_IN_CLUSTER"),
    )
    service_account_dir: str = Field(
        "/var/run/secrets/kubernetes.io/serviceaccount",
        description="Where the in-cluster token, ca.crt and namespace files are mounted",
        json_schema_extra=_env("K8S_MCP_SERVICE_ACCOUNT_DIR"),
    )
    helm_binary: str = Field(
        "helm",
        description="The helm v3 binary for the Helm tools: a path, or a name looked up on PATH",
        json_schema_extra=_env("K8S_MCP_HELM_BINARY"),
    )
    read_only: bool = Field(
        False,
        description="Expose only read tools; refuse every mutating API verb",
        json_schema_extra=_env("K8S_MCP_READ_ONLY"),
    )
    enable_destructive_operations: bool = Field(
        False,
        description="Allow deletes, exec and other destructive tools",
        json_schema_extra=_env("K8S_ENABLE_DESTRUCTIVE_OPERATIONS"),
    )
    approval: Literal["none", "elicit", "confirm"] = Field(
        "confirm",
        description="How changes in approval scope are approved: none; elicit (ask the human through the client, "
        "refuse when it cannot ask); confirm (dry run first, then repeat the call with the one-time approvalToken)",
        json_schema_extra=_env("K8S_MCP_APPROVAL"),
    )
    approval_scope: Literal["destructive", "changes"] = Field(
        "destructive",
        description="Which tools need approval: destructive ones, or every change",
        json_schema_extra=_env("K8S_MCP_APPROVAL_SCOPE"),
    )
    approval_ttl_seconds: int = Field(
        300,
        ge=10,
        le=3600,
        description="Lifetime of a confirm-mode approval token",
        json_schema_extra=_env("K8S_MCP_APPROVAL_TTL_SECONDS"),
    )
    approval_secret: str | None = Field(
        None,
        description="Key for approval tokens and sealed 2026 elicitation state "
        "(set the same on every replica; default: random per process)",
        json_schema_extra=_env("K8S_MCP_APPROVAL_SECRET"),
    )
    approval_ledger: bool = Field(
        True,
        description="Record spent approval tokens as Leases in the state namespace, so each token approves one "
        "call across all replicas (false: remembered per process only, for a single replica)",
        json_schema_extra=_env("K8S_MCP_APPROVAL_LEDGER"),
    )
    state_namespace: str | None = Field(
        None,
        description="Namespace of the server's own records (spent approval tokens), written with the server's "
        "credentials in its default context (default: the pod's namespace in-cluster, else 'default')",
        json_schema_extra=_env("K8S_MCP_STATE_NAMESPACE"),
    )
    approval_rules: str | None = Field(
        None,
        description="YAML file of ordered approval rules (tool, verb, API group, kind, namespace and name globs -> "
        "allow, confirm, elicit or deny; the first match decides, unmatched changes follow --approval)",
        json_schema_extra=_env("K8S_MCP_APPROVAL_RULES"),
    )
    field_manager: str = Field(
        "k8s-mcp",
        min_length=1,
        max_length=128,
        pattern=r"^[ -~]+$",
        description="Field manager name for server-side apply and other writes (who owns the fields set)",
        json_schema_extra=_env("K8S_MCP_FIELD_MANAGER"),
    )
    denied_resources: tuple[str, ...] = Field(
        ("Secret",),
        description="Kinds no tool may touch, as Kind or group/Kind (comma list; '' to deny none)",
        json_schema_extra=_env("K8S_MCP_DENIED_RESOURCES"),
    )
    allowed_namespaces: tuple[str, ...] = Field(
        (),
        description="If set, the only namespaces tools may use (comma list)",
        json_schema_extra=_env("K8S_MCP_ALLOWED_NAMESPACES"),
    )
    denied_namespaces: tuple[str, ...] = Field(
        (),
        description="Namespaces tools may never use (comma list)",
        json_schema_extra=_env("K8S_MCP_DENIED_NAMESPACES"),
    )
    allow_bulk_delete: bool = Field(
        False,
        description="Allow deleting whole collections (by selector)",
        json_schema_extra=_env("K8S_MCP_ALLOW_BULK_DELETE"),
    )
    reveal_secrets: bool = Field(
        False,
        description="Show Secret values and token-like strings instead of redacting them",
        json_schema_extra=_env("K8S_MCP_REVEAL_SECRETS"),
    )
    auth_tokens_file: str | None = Field(
        None,
        description="Static bearer tokens, CSV lines 'token,user[,uid[,\"group1,group2\"]]' (enables auth)",
        json_schema_extra=_env("K8S_MCP_AUTH_TOKENS_FILE"),
    )
    auth_token: str | None = Field(
        None,
        description="One static bearer token for the user 'mcp-user' (enables auth)",
        json_schema_extra=_env("K8S_MCP_AUTH_TOKEN"),
    )
    oidc_issuer: str | None = Field(
        None,
        description="OIDC issuer URL: bearer JWTs must come from it (enables auth)",
        json_schema_extra=_env("K8S_MCP_OIDC_ISSUER"),
    )
    oidc_audience: str | None = Field(
        None,
        description="Required JWT audience (default: the public URL of /mcp)",
        json_schema_extra=_env("K8S_MCP_OIDC_AUDIENCE"),
    )
    oidc_jwks_url: str | None = Field(
        None,
        description="JWKS URL (default: the jwks_uri of the issuer's /.well-known/openid-configuration)",
        json_schema_extra=_env("K8S_MCP_OIDC_JWKS_URL"),
    )
    oidc_ca_file: str | None = Field(
        None,
        description="CA bundle (PEM) to trust for the issuer's HTTPS, e.g. a private IdP's CA (default: system CAs)",
        json_schema_extra=_env("K8S_MCP_OIDC_CA_FILE"),
    )
    oidc_jwks_cache_seconds: float = Field(
        300,
        ge=1,
        le=86_400,
        description="How long the issuer's keys are reused before they are fetched again (a token with an "
        "unknown key id fetches them at once); a key the issuer stopped publishing is refused after this",
        json_schema_extra=_env("K8S_MCP_OIDC_JWKS_CACHE_SECONDS"),
    )
    oidc_username_claim: str = Field(
        "sub", description="JWT claim that names the user", json_schema_extra=_env("K8S_MCP_OIDC_USERNAME_CLAIM")
    )
    oidc_groups_claim: str = Field(
        "groups",
        description="JWT claim that lists the user's groups",
        json_schema_extra=_env("K8S_MCP_OIDC_GROUPS_CLAIM"),
    )
    required_scopes: tuple[str, ...] = Field(
        (),
        description="Scopes every token must carry (403 otherwise; comma list)",
        json_schema_extra=_env("K8S_MCP_REQUIRED_SCOPES"),
    )
    public_url: str | None = Field(
        None,
        description="External base URL of this server, for OAuth metadata (default http://<host>:<port>)",
        json_schema_extra=_env("K8S_MCP_PUBLIC_URL"),
    )
    cluster_auth: Literal["server", "impersonate", "passthrough"] = Field(
        "server",
        description="Who the API server sees: server = this server's own credentials; impersonate = the "
        "caller, through Impersonate-User/Group on the server's credentials; passthrough = the caller's "
        "own bearer token is sent to the API server (the server needs only its URL and CA)",
        json_schema_extra=_env("K8S_MCP_CLUSTER_AUTH"),
    )
    impersonate: bool = Field(
        False,
        description="Same as --cluster-auth impersonate",
        json_schema_extra=_env("K8S_MCP_IMPERSONATE"),
    )
    rate_limit: str = Field(
        "300/minute",
        description="Tool calls per identity (limits syntax, e.g. '300/minute'; '' = unlimited)",
        json_schema_extra=_env("K8S_MCP_RATE_LIMIT"),
    )
    stateless: bool = Field(
        False,
        description="Legacy (2025) clients get no Mcp-Session-Id; every request stands alone",
        json_schema_extra=_env("K8S_MCP_STATELESS"),
    )
    json_response: bool = Field(
        False,
        description="Answer POSTs with one JSON body instead of an SSE stream",
        json_schema_extra=_env("K8S_MCP_JSON_RESPONSE"),
    )
    allowed_hosts: tuple[str, ...] = Field(
        DEFAULT_ALLOWED_HOSTS,
        description="Host header patterns accepted on /mcp (comma list; '*' wildcards; '*' alone = any)",
        json_schema_extra=_env("K8S_MCP_ALLOWED_HOSTS"),
    )
    allowed_origins: tuple[str, ...] = Field(
        DEFAULT_ALLOWED_ORIGINS,
        description="Origin header patterns accepted on /mcp (comma list; a missing Origin is accepted)",
        json_schema_extra=_env("K8S_MCP_ALLOWED_ORIGINS"),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level", json_schema_extra=_env("K8S_MCP_LOG_LEVEL")
    )
    api_timeout: float = Field(
        20.0,
        gt=0,
        le=600,
        description="Seconds before a Kubernetes API call is abandoned",
        json_schema_extra=_env("K8S_MCP_API_TIMEOUT"),
    )
    output_max_chars: int = Field(
        20_000,
        ge=1000,
        description="Cap on the text of one tool result; the rest is announced, not dropped",
        json_schema_extra=_env("K8S_MCP_OUTPUT_MAX_CHARS"),
    )
    list_limit: int = Field(
        500,
        ge=1,
        le=10_000,
        description="Items fetched per list call (the rest via the continue token)",
        json_schema_extra=_env("K8S_MCP_LIST_LIMIT"),
    )
    readiness_cache_seconds: float = Field(
        3.0,
        ge=0,
        description="How long /readyz reuses its last cluster check",
        json_schema_extra=_env("K8S_MCP_READINESS_CACHE_SECONDS"),
    )
    session_idle_timeout: float = Field(
        1800,
        gt=0,
        description="Seconds before an idle legacy session is closed",
        json_schema_extra=_env("K8S_MCP_SESSION_IDLE_TIMEOUT"),
    )
    max_sessions: int = Field(
        10_000,
        ge=1,
        description="Open legacy sessions before new ones get 503",
        json_schema_extra=_env("K8S_MCP_MAX_SESSIONS"),
    )
    sse_retry_ms: int = Field(
        1000,
        ge=0,
        le=600_000,
        description="Reconnect delay suggested to 2025-era clients in each SSE stream's first event "
        "(the 'retry' field; 0 = none)",
        json_schema_extra=_env("K8S_MCP_SSE_RETRY_MS"),
    )
    sse_replay_events: int = Field(
        500,
        ge=0,
        le=100_000,
        description="Events kept per 2025-era session for clients that reconnect with Last-Event-ID "
        "(oldest dropped first; 0 = streams are not resumable)",
        json_schema_extra=_env("K8S_MCP_SSE_REPLAY_EVENTS"),
    )
    sse_replay_bytes: int = Field(
        2 * 1024 * 1024,
        ge=1024,
        description="Total size of the events kept per session for replay (oldest dropped first)",
        json_schema_extra=_env("K8S_MCP_SSE_REPLAY_BYTES"),
    )
    sse_replay_seconds: float = Field(
        300,
        gt=0,
        le=86_400,
        description="How long an event is kept for replay",
        json_schema_extra=_env("K8S_MCP_SSE_REPLAY_SECONDS"),
    )
    shutdown_delay_seconds: float = Field(
        2.0,
        ge=0,
        le=300,
        description="After SIGTERM: seconds the server stays up but unready (/readyz 503, no new sessions), so "
        "load balancers stop sending before it stops listening",
        json_schema_extra=_env("K8S_MCP_SHUTDOWN_DELAY_SECONDS"),
    )
    shutdown_grace_seconds: float = Field(
        20.0,
        ge=0,
        le=3600,
        description="After the delay: at most this long for in-flight requests to finish before the process exits",
        json_schema_extra=_env("K8S_MCP_SHUTDOWN_GRACE_SECONDS"),
    )
    tool_profile: Literal["default", "infra"] = Field(
        "default",
        description="Tool names to expose: default = the Go kubernetes-mcp-server's (pods_list, ...); "
        "infra = the infra.k8s catalog (listPods, getPodLogs, switchContext, ...)",
        json_schema_extra=_env("K8S_MCP_TOOL_PROFILE"),
    )
    toolsets: tuple[str, ...] = Field(
        ("core", "config", "metrics", "helm"),
        description="Toolsets to expose (comma list of core, config, metrics, helm)",
        json_schema_extra=_env("K8S_MCP_TOOLSETS"),
    )
    enabled_tools: tuple[str, ...] = Field(
        (),
        description="When set, expose exactly these tools (comma list), whatever their toolset; "
        "read-only and destructive gating still apply",
        json_schema_extra=_env("K8S_MCP_ENABLED_TOOLS"),
    )
    disabled_tools: tuple[str, ...] = Field(
        (),
        description="Tools never to expose (comma list)",
        json_schema_extra=_env("K8S_MCP_DISABLED_TOOLS"),
    )
    subscriptions_per_session: int = Field(
        100,
        ge=1,
        le=100_000,
        description="Live resource subscriptions one MCP session (or one 2026 listen stream) may hold",
        json_schema_extra=_env("K8S_MCP_SUBSCRIPTIONS_PER_SESSION"),
    )
    max_subscriptions: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="Live resource subscriptions this process holds at most, all sessions together (each "
        "distinct object watched holds one Kubernetes watch and one worker thread)",
        json_schema_extra=_env("K8S_MCP_MAX_SUBSCRIPTIONS"),
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1024,
        description="Largest accepted request body (413 above)",
        json_schema_extra=_env("K8S_MCP_MAX_BODY_BYTES"),
    )

    _rulebook: RuleBook = PrivateAttr(default_factory=RuleBook)

    def model_post_init(self, context: Any, /) -> None:
        if self.approval_rules:  # read once at start; a bad file stops the start (ConfigError, one line)
            self._rulebook = load_rules(self.approval_rules)

    @property
    def rules(self) -> RuleBook:
        """The approval rules of ``approval_rules`` (empty without a file)."""
        return self._rulebook

    @field_validator(
        "allowed_hosts",
        "allowed_origins",
        "denied_resources",
        "allowed_namespaces",
        "denied_namespaces",
        "required_scopes",
        "toolsets",
        "enabled_tools",
        "disabled_tools",
        mode="before",
    )
    @classmethod
    def _split_comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("tool_profile", mode="before")
    @classmethod
    def _lower_profile(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("state_namespace", mode="before")
    @classmethod
    def _namespace_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip() or None
            if value is not None and not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", value):
                raise ValueError("must be a namespace name (lower-case letters, digits and '-', at most 63)")
        return value

    @field_validator("in_cluster", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return "true" if value else "false"
        return value.lower() if isinstance(value, str) else value

    @field_validator("cluster_auth", mode="before")
    @classmethod
    def _lower_cluster_auth(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _cluster_auth_consistent(self) -> Settings:
        if self.impersonate and self.cluster_auth == "passthrough":
            raise ValueError("impersonate and cluster_auth passthrough exclude each other; choose one cluster_auth")
        if self.cluster_auth_mode != "server" and not self.auth_enabled:
            raise ValueError(
                f"cluster_auth {self.cluster_auth_mode} needs authenticated callers: set oidc_issuer "
                "(K8S_MCP_OIDC_ISSUER) or static tokens (K8S_MCP_AUTH_TOKENS_FILE)"
            )
        return self

    @property
    def cluster_auth_mode(self) -> Literal["server", "impersonate", "passthrough"]:
        """The effective mode: ``impersonate = true`` is the older spelling of ``cluster_auth impersonate``."""
        return "impersonate" if self.impersonate and self.cluster_auth == "server" else self.cluster_auth

    @property
    def auth_enabled(self) -> bool:
        return bool(self.auth_tokens_file or self.auth_token or self.oidc_issuer)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in {"0.0.0.0", "::"} else self.host
        return f"http://{host}:{self.port}"


def env_name(field: str) -> str:
    extra = Settings.model_fields[field].json_schema_extra
    assert isinstance(extra, dict)
    return str(extra["env"])


def _flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    """The CLI: one flag per setting, each help line naming its env var and default."""
    parser = argparse.ArgumentParser(
        prog="k8s-mcp",
        description="Kubernetes MCP server. Precedence: command line > environment > --config file > defaults.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=os.environ.get("K8S_MCP_CONFIG"),
        help="YAML file whose keys are the setting names below, e.g. 'port: 8008' [env K8S_MCP_CONFIG]",
    )
    for name, field in Settings.model_fields.items():
        help_text = f"{field.description} [env {env_name(name)}; default {_show_default(field.default)}]"
        if field.annotation is bool:
            parser.add_argument(
                _flag(name), dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            parser.add_argument(_flag(name), dest=name, default=None, metavar=name.upper(), help=help_text)
    return parser


def _show_default(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(value) or "none"
    return "unset" if value is None else str(value)


def _read_config_file(path: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"config file {path} is not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must be a mapping of setting names to values")
    normalised = {str(k).replace("-", "_"): v for k, v in data.items()}
    unknown = sorted(set(normalised) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting {unknown[0]!r}")
    return normalised


def load_settings(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Layer defaults < config file < environment < command line, then validate once."""
    environ = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)
    layered: dict[str, Any] = {}
    if args.config:
        layered.update(_read_config_file(args.config))
    for name in Settings.model_fields:
        value = environ.get(env_name(name))
        if value not in (None, ""):
            layered[name] = value
    for name in Settings.model_fields:
        value = getattr(args, name)
        if value is not None:
            layered[name] = value
    try:
        return Settings(**layered)
    except ValidationError as e:
        error = e.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:  # a rule across several settings
            raise ConfigError(f"invalid settings: {message}") from e
        key = str(error["loc"][0])
        where = f" ({env_name(key)})" if key in Settings.model_fields else ""
        raise ConfigError(f"invalid setting {key}{where}: {message}") from e
