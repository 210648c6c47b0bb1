"""Where the cluster credentials come from: a kubeconfig file (several contexts) or the pod's service account.

Nothing here ever writes a kubeconfig: clients are built with ``persist_config=False`` and the
per-session or per-call context is chosen by name, never by rewriting ``current-context``. When no
credentials exist the server still starts; every call then fails with one line that says why.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client import ApiClient, Configuration
from kubernetes.config import ConfigException
from kubernetes.config.incluster_config import InClusterConfigLoader
from kubernetes.config.kube_config import load_kube_config

from app.config import Settings
from app.errors import ToolInputError, Unavailable

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


class Contexts:
    """Lazily loads credentials and keeps one ApiClient per context name."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._kind, self._where = _source(settings)
        self._clients: dict[str, ApiClient] = {}
        self._lock = threading.Lock()
        self._sa_dir = Path(settings.service_account_dir)
        self._parsed: tuple[tuple[tuple[str, int], ...], list[ContextInfo]] | None = None

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

    def client(self, ctx: ContextInfo) -> ApiClient:
        with self._lock:
            existing = self._clients.get(ctx.name)
            if existing is not None:
                return existing
            configuration = Configuration()
            configuration.connection_pool_maxsize = 64
            configuration.retries = False
            try:
                if self._kind == IN_CLUSTER:
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
            self._clients[ctx.name] = created
            return created

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
