"""Where the cluster credentials come from: a kubeconfig file (several contexts) or the pod's service account.

Nothing here ever writes a kubeconfig: clients are built with ``persist_config=False`` and the
per-session or per-call context is chosen by name, never by rewriting ``current-context``. A
session's own default (``switch_session_default``) lives in memory, keyed by the MCP session id
of the request scope (``app.scope.session_id``); other sessions never see it. When no
credentials exist the server still starts; every call then fails with one line that says why.
"""

from __future__ import annotations

import copy
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes.client import ApiClient, Configuration
from kubernetes.config import ConfigException
from kubernetes.config.incluster_config import InClusterConfigLoader
from kubernetes.config.kube_config import ConfigNode, _get_kube_config_loader, load_kube_config
from urllib3.util.retry import Retry

from app import redaction
from app.config import Settings
from app.errors import ToolInputError, Unavailable
from app.scope import session_key

IN_CLUSTER = "in-cluster"


@dataclass(frozen=True)
class ContextInfo:
    name: str
    cluster: str
    server: str
    user: str
    namespace: str
    current: bool


def _source(settings: Settings) -> tuple[str, str | None]:
    """('kubeconfig', path) or ('in-cluster', None) or ('none', reason)."""
    explicit = settings.kubeconfig
    default = Path.home() / ".kube" / "config"
    in_pod = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    if settings.in_cluster == "true":
        return IN_CLUSTER, None
    if explicit:
        return "kubeconfig", explicit
    if default.exists():
        return "kubeconfig", str(default)
    if settings.in_cluster == "auto" and in_pod:
        return IN_CLUSTER, None
    return "none", f"no kubeconfig at {default} and not running in a cluster (set KUBECONFIG)"


class _RetryStaleConnection(Retry):
    """urllib3's retry, except that a timeout is an answer (the server is slow or gone): never retried."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> _RetryStaleConnection:
        if isinstance(error, urllib3.exceptions.TimeoutError):
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)


#: How API calls meet a pooled keep-alive connection that the API server closed meanwhile (it fails on its
#: next use with "Connection aborted"): a read (GET, HEAD) is sent once more on a fresh connection, as is
#: any request that failed before it was sent; a change that may have reached the server is never sent
#: twice. No retry on a timeout, an HTTP status or a redirect: those are answers, reported as they are.
RETRY_STALE_CONNECTION = _RetryStaleConnection(
    total=1,
    connect=1,
    read=1,
    redirect=0,
    status=0,
    other=0,
    allowed_methods=frozenset({"GET", "HEAD"}),
    raise_on_redirect=False,
    raise_on_status=False,
)


class Contexts:
    """Lazily loads credentials and keeps one ApiClient per context name."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._kind, self._where = _source(settings)
        self._clients: dict[tuple[str, bool], ApiClient] = {}
        self._lock = threading.Lock()
        self._sa_dir = Path(settings.service_account_dir)
        self._parsed: tuple[tuple[tuple[str, int], ...], list[ContextInfo]] | None = None
        self._session_defaults: OrderedDict[str, str] = OrderedDict()
        self._max_session_defaults = settings.max_sessions

    @property
    def source(self) -> str:
        if self._kind == "kubeconfig":
            return f"kubeconfig {self._where}"
        return self._kind if self._kind == IN_CLUSTER else f"none ({self._where})"

    @property
    def kind(self) -> str:
        """'kubeconfig', 'in-cluster' or 'none'."""
        return self._kind

    @property
    def kubeconfig(self) -> str | None:
        """The kubeconfig path list (os.pathsep-separated) in kubeconfig mode, else None."""
        return self._where if self._kind == "kubeconfig" else None

    @property
    def service_account_dir(self) -> Path:
        return self._sa_dir

    def in_cluster_server(self) -> str:
        return self._in_cluster_server()

    def all(self) -> list[ContextInfo]:
        """Every context, ``current`` marking this session's default."""
        contexts = self._all()
        chosen = self._session_choice()
        if chosen is None or not any(c.name == chosen for c in contexts):
            return contexts
        return [replace(c, current=c.name == chosen) for c in contexts]

    def _all(self) -> list[ContextInfo]:
        if self._kind == IN_CLUSTER:
            return [
                ContextInfo(
                    IN_CLUSTER,
                    IN_CLUSTER,
                    self._in_cluster_server(),
                    "serviceaccount",
                    self._in_cluster_namespace(),
                    True,
                )
            ]
        if self._kind == "none":
            raise Unavailable(f"no cluster configured: {self._where}")
        return self._kubeconfig_contexts()

    def _kubeconfig_contexts(self) -> list[ContextInfo]:
        """Parsed once and reused until one of the files changes (mtime), so calls stay cheap."""
        paths = [p for p in str(self._where).split(os.pathsep) if p]
        try:
            stamp = tuple((p, Path(p).stat().st_mtime_ns) for p in paths)
        except OSError as e:
            raise Unavailable(f"cannot read kubeconfig {self._where}: {e.strerror}") from e
        with self._lock:
            if self._parsed is not None and self._parsed[0] == stamp:
                return self._parsed[1]
        merged: dict[str, dict[str, dict[str, Any]]] = {"clusters": {}, "contexts": {}}
        current: str | None = None
        for path in paths:
            try:
                doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            except OSError as e:
                raise Unavailable(f"cannot read kubeconfig {path}: {e.strerror}") from e
            except yaml.YAMLError as e:
                raise Unavailable(f"kubeconfig {path} is not valid YAML: {yaml_problem(e)}") from e
            for section in ("clusters", "contexts"):
                for entry in doc.get(section) or []:
                    merged[section].setdefault(str(entry.get("name")), entry.get(section[:-1]) or {})
            current = current or doc.get("current-context")
        chosen = self._settings.context or current
        contexts = [
            ContextInfo(
                name=name,
                cluster=str(body.get("cluster", "")),
                server=str(merged["clusters"].get(str(body.get("cluster")), {}).get("server", "")),
                user=str(body.get("user", "")),
                namespace=str(body.get("namespace") or "default"),
                current=name == chosen,
            )
            for name, body in merged["contexts"].items()
        ]
        with self._lock:
            self._parsed = (stamp, contexts)
        return contexts

    def resolve(self, name: str | None) -> ContextInfo:
        """The context a call runs against: the named one, else the configured default."""
        contexts = self.all()
        if name:
            for ctx in contexts:
                if ctx.name == name:
                    return ctx
            known = ", ".join(c.name for c in contexts)
            raise ToolInputError(f"unknown context {name!r}; known contexts: {known}")
        for ctx in contexts:
            if ctx.current:
                return ctx
        if self._settings.context:
            raise Unavailable(f"the configured context {self._settings.context!r} is not in the kubeconfig")
        if contexts:
            return contexts[0]
        raise Unavailable(f"kubeconfig {self._where} has no contexts")

    def server_default(self) -> ContextInfo:
        """The server's own default context (``--context`` or the kubeconfig's current-context), whatever
        context an MCP session switched to: where the server keeps its own records."""
        contexts = self._all()
        for ctx in contexts:
            if ctx.current:
                return ctx
        if self._settings.context:
            raise Unavailable(f"the configured context {self._settings.context!r} is not in the kubeconfig")
        if contexts:
            return contexts[0]
        raise Unavailable(f"kubeconfig {self._where} has no contexts")

    def pod_namespace(self) -> str | None:
        """The namespace of the pod this server runs in (its service account's), or None outside a cluster."""
        return self._in_cluster_namespace() if self._kind == IN_CLUSTER else None

    # -- the per-session default context ---------------------------------------------------------

    def _session_choice(self) -> str | None:
        key = session_key()
        if key is None:
            return None
        with self._lock:
            return self._session_defaults.get(key)

    def switch_session_default(self, name: str) -> ContextInfo:
        """Make ``name`` the default context of the calling MCP session only; files stay untouched."""
        key = session_key()
        if key is None:
            raise ToolInputError(
                "switching context needs an MCP session (Mcp-Session-Id), and this request has none; "
                "pass 'context' on each call instead"
            )
        target = self.resolve(name)
        with self._lock:
            self._session_defaults[key] = target.name
            self._session_defaults.move_to_end(key)
            while len(self._session_defaults) > self._max_session_defaults:
                self._session_defaults.popitem(last=False)
        return replace(target, current=True)

    # -- the kubeconfig as shown to a client ------------------------------------------------------

    def redacted_kubeconfig(self, *, minified: bool) -> dict[str, Any]:
        """The kubeconfig with every credential replaced (``redaction.redact_kubeconfig``).

        ``minified`` keeps only this session's current context, its cluster and its user. In a pod a
        kubeconfig is synthesized from the service account (paths only, never the token).
        """
        if self._kind == "none":
            raise Unavailable(f"no cluster configured: {self._where}")
        current = self.resolve(None).name
        if self._kind == IN_CLUSTER:
            ctx = self.all()[0]
            doc: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": IN_CLUSTER,
                        "cluster": {"server": ctx.server, "certificate-authority": str(self._sa_dir / "ca.crt")},
                    }
                ],
                "users": [{"name": ctx.user, "user": {"tokenFile": str(self._sa_dir / "token")}}],
                "contexts": [
                    {
                        "name": IN_CLUSTER,
                        "context": {"cluster": IN_CLUSTER, "user": ctx.user, "namespace": ctx.namespace},
                    }
                ],
                "current-context": IN_CLUSTER,
            }
        else:
            doc = self._merged_kubeconfig()
            doc["current-context"] = current
        if minified:
            doc = _minify(doc, current)
        return redaction.redact_kubeconfig(doc)

    def _merged_kubeconfig(self) -> dict[str, Any]:
        """All kubeconfig files merged as kubectl does: the first definition of a name wins."""
        merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "preferences": {}}
        seen: dict[str, set[str]] = {"clusters": set(), "contexts": set(), "users": set()}
        for path in [p for p in str(self._where).split(os.pathsep) if p]:
            try:
                doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as e:
                raise Unavailable(f"cannot read kubeconfig {path}: {e}") from e
            for section in ("clusters", "contexts", "users"):
                for entry in doc.get(section) or []:
                    name = str(entry.get("name"))
                    if name not in seen[section]:
                        seen[section].add(name)
                        merged.setdefault(section, []).append(copy.deepcopy(entry))
            if doc.get("preferences") and not merged["preferences"]:
                merged["preferences"] = copy.deepcopy(doc["preferences"])
        for section in ("clusters", "contexts", "users"):
            merged.setdefault(section, [])
        return merged

    def client(self, ctx: ContextInfo, *, watches: bool = False) -> ApiClient:
        """The context's API client. ``watches``: a second client whose connection pool holds only the
        long-lived watch connections of live subscriptions (as many as ``max_subscriptions``), so they never
        take the pooled connections of ordinary calls."""
        with self._lock:
            existing = self._clients.get((ctx.name, watches))
            if existing is not None:
                return existing
            configuration = Configuration()
            configuration.connection_pool_maxsize = self._settings.max_subscriptions if watches else 64
            # A watch reconnects on its own terms (re-list, back-off, a log line): no silent retry there.
            configuration.retries = False if watches else RETRY_STALE_CONNECTION
            try:
                if self._settings.cluster_auth_mode == "passthrough":
                    self._load_cluster_only(ctx, configuration)
                elif self._kind == IN_CLUSTER:
                    InClusterConfigLoader(
                        token_filename=str(self._sa_dir / "token"), cert_filename=str(self._sa_dir / "ca.crt")
                    ).load_and_set(configuration)
                else:
                    load_kube_config(
                        config_file=self._where,
                        context=ctx.name,
                        client_configuration=configuration,
                        persist_config=False,
                    )
            except (ConfigException, OSError) as e:
                raise Unavailable(f"cannot load credentials for context {ctx.name!r}: {e}") from e
            created = ApiClient(configuration=configuration)
            self._clients[(ctx.name, watches)] = created
            return created

    def _load_cluster_only(self, ctx: ContextInfo, configuration: Configuration) -> None:
        """Passthrough: only where the API server is and how to trust it (URL, CA, TLS name, proxy).

        No credential of the server's own is loaded, not even a client certificate: every request then
        carries the caller's bearer token and nothing else. In a pod that is the service host and the
        mounted ``ca.crt``; the service account token is neither read nor needed.
        """
        if self._kind == IN_CLUSTER:
            configuration.host = self._in_cluster_server()
            ca = self._sa_dir / "ca.crt"
            if not ca.is_file():
                raise OSError(f"no cluster CA at {ca}")
            configuration.ssl_ca_cert = str(ca)
            return
        loader = _get_kube_config_loader(filename=self._where, active_context=ctx.name, persist_config=False)
        loader._user = ConfigNode("user", {})  # the context's user entry is ignored: no credentials at all
        loader.load_and_set(configuration)

    def _in_cluster_server(self) -> str:
        host = os.environ.get("KUBERNETES_SERVICE_HOST", "")
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        return f"https://{host}:{port}" if ":" not in host else f"https://[{host}]:{port}"

    def _in_cluster_namespace(self) -> str:
        try:
            return (self._sa_dir / "namespace").read_text(encoding="utf-8").strip() or "default"
        except OSError:
            return "default"


def yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error as one line without the file excerpt PyYAML quotes (a kubeconfig line can be a token)."""
    problem = getattr(error, "problem", None) or getattr(error, "context", None) or "cannot be parsed"
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"


def _minify(doc: dict[str, Any], current: str) -> dict[str, Any]:
    """Only the current context and the cluster and user it names."""
    contexts = [c for c in doc.get("contexts") or [] if c.get("name") == current]
    body = (contexts[0].get("context") or {}) if contexts else {}
    out = {k: v for k, v in doc.items() if k not in ("clusters", "contexts", "users")}
    out["clusters"] = [c for c in doc.get("clusters") or [] if c.get("name") == body.get("cluster")]
    out["contexts"] = contexts
    out["users"] = [u for u in doc.get("users") or [] if u.get("name") == body.get("user")]
    return out
