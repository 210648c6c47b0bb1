"""Start-up check of the cluster credentials: one line saying what the server will use, or why it cannot.

The container entrypoint runs this (console script ``k8s-mcp-preflight``) before it execs the
server, so a misconfigured deployment stops at once with the reason (an unreadable kubeconfig, an
unknown context, a certificate file that was not mounted, an exec plugin the image lacks) instead of
serving tools that all fail. It reads the same settings as the server and resolves the source the
same way (``contexts._source``). It never prints a credential: only names, the server URL without
user info, and the kind of authentication (token, client-cert, exec, auth-provider, basic, in-cluster).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from app.config import Settings
from app.errors import Unavailable
from app.kube.contexts import IN_CLUSTER, ContextInfo, Contexts, _source, yaml_problem

FLATTEN_HINT = "mount it too, or embed it with `kubectl config view --flatten --minify`"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "0.0.0.0")


@dataclass(frozen=True)
class CredentialSummary:
    source: str
    context: str
    server: str
    auth: str
    namespace: str
    warnings: tuple[str, ...] = ()

    def line(self) -> str:
        return (
            f"cluster credentials: {self.source}; context {self.context}; server {self.server}; "
            f"auth {self.auth}; namespace {self.namespace}"
        )


PASSTHROUGH = "passthrough (each caller's own bearer token; no credentials of the server's own)"


def auth_method(user: Mapping[str, Any]) -> str:
    """The kind of authentication a kubeconfig user entry configures, in the client's order of preference."""
    methods: list[str] = []
    provider = user.get("auth-provider")
    if isinstance(provider, Mapping):
        methods.append(f"auth-provider ({provider.get('name', '?')})")
    if user.get("token") or user.get("tokenFile"):
        methods.append("token")
    plugin = user.get("exec")
    if isinstance(plugin, Mapping):
        methods.append(f"exec ({Path(str(plugin.get('command', '?'))).name})")
    if user.get("username"):
        methods.append("basic")
    if user.get("client-certificate") or user.get("client-certificate-data"):
        methods.append("client-cert")
    return " + ".join(methods) or "none"


def safe_server(url: str) -> str:
    """The server URL without user info, query or fragment (they can carry credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL)"
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def check_credentials(settings: Settings) -> CredentialSummary:
    """Raise ``Unavailable`` with one readable line when the server could not authenticate."""
    kind, where = _source(settings)
    if kind == IN_CLUSTER:
        return _in_cluster(settings)
    if kind != "kubeconfig" or where is None:
        raise Unavailable(f"no cluster credentials: {where}; mount a kubeconfig or run in a pod")
    return _kubeconfig(settings, where)


def _in_cluster(settings: Settings) -> CredentialSummary:
    if not os.environ.get("KUBERNETES_SERVICE_HOST"):
        raise Unavailable("in-cluster mode needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT (set in a pod)")
    sa_dir = Path(settings.service_account_dir)
    if settings.cluster_auth_mode == "passthrough":  # the CA only: every call carries the caller's token
        _readable(sa_dir / "ca.crt", "the cluster CA certificate")
        info = Contexts(settings).all()[0]
        return CredentialSummary(
            source=f"in-cluster ({sa_dir})",
            context=info.name,
            server=info.server,
            auth=PASSTHROUGH,
            namespace=info.namespace,
        )
    token_path = sa_dir / "token"
    try:
        token = token_path.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise Unavailable(
            f"no service account token at {token_path}: {e.strerror} (is automountServiceAccountToken off?)"
        ) from e
    if not token:
        raise Unavailable(f"the service account token at {token_path} is empty")
    _readable(sa_dir / "ca.crt", "the cluster CA certificate")
    info = Contexts(settings).all()[0]
    subject = _token_subject(token)
    return CredentialSummary(
        source=f"in-cluster service account ({sa_dir})",
        context=info.name,
        server=info.server,
        auth=f"in-cluster ({subject})" if subject else "in-cluster",
        namespace=info.namespace,
    )


def _token_subject(token: str) -> str | None:
    """The ``sub`` claim of a service account JWT (system:serviceaccount:NS:NAME): an identity, not a secret."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    subject = payload.get("sub") if isinstance(payload, dict) else None
    return str(subject) if isinstance(subject, str) and subject.startswith("system:serviceaccount:") else None


def _readable(path: Path, what: str, hint: str = "") -> None:
    try:
        with path.open("rb"):
            pass
    except OSError as e:
        extra = f"; the server runs as uid {os.getuid()}" if e.errno == 13 and hasattr(os, "getuid") else ""
        raise Unavailable(f"{what} {path} cannot be read: {e.strerror}{extra}{'; ' + hint if hint else ''}") from e


def _load(path: str) -> dict[str, Any]:
    file = Path(path)
    _readable(file, "kubeconfig")
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise Unavailable(f"kubeconfig {path} is not valid YAML: {yaml_problem(e)}") from e
    except (OSError, UnicodeDecodeError) as e:
        raise Unavailable(f"kubeconfig {path} cannot be read as text: {type(e).__name__}") from e
    if not isinstance(doc, dict):
        raise Unavailable(f"kubeconfig {path} is not a kubeconfig (expected a mapping with clusters/contexts/users)")
    return doc


def _kubeconfig(settings: Settings, where: str) -> CredentialSummary:
    paths = [p for p in where.split(os.pathsep) if p]
    entries: dict[str, dict[str, tuple[dict[str, Any], Path]]] = {"clusters": {}, "contexts": {}, "users": {}}
    current: str | None = None
    for path in paths:
        doc = _load(path)
        for section in entries:
            for entry in doc.get(section) or []:
                if isinstance(entry, dict) and entry.get("name") is not None:
                    body = entry.get(section[:-1]) or {}
                    entries[section].setdefault(str(entry["name"]), (body, Path(path).parent))
        current = current or doc.get("current-context") or None
    contexts = entries["contexts"]
    known = ", ".join(sorted(contexts)) or "none"
    name = settings.context or current
    if not contexts:
        raise Unavailable(f"kubeconfig {where} has no contexts")
    if not name:
        raise Unavailable(f"kubeconfig {where} has no current-context; pass --context (known contexts: {known})")
    if name not in contexts:
        raise Unavailable(f"context {name!r} is not in kubeconfig {where}; known contexts: {known}")
    ctx, _ = contexts[name]
    cluster_name = str(ctx.get("cluster", ""))
    if cluster_name not in entries["clusters"]:
        raise Unavailable(f"context {name!r} names cluster {cluster_name!r}, which is not in kubeconfig {where}")
    cluster, cluster_dir = entries["clusters"][cluster_name]
    server = str(cluster.get("server") or "")
    if not server:
        raise Unavailable(f"cluster {cluster_name!r} in kubeconfig {where} has no server URL")
    user_name = ctx.get("user")
    user: dict[str, Any] = {}
    user_dir = cluster_dir
    if user_name:
        if str(user_name) not in entries["users"]:
            raise Unavailable(f"context {name!r} names user {user_name!r}, which is not in kubeconfig {where}")
        user, user_dir = entries["users"][str(user_name)]
    _check_files(cluster, cluster_dir, f"cluster {cluster_name!r}", ("certificate-authority",))
    passthrough = settings.cluster_auth_mode == "passthrough"
    if passthrough:  # the user entry is never read: every call carries the caller's token
        user = {}
    _check_files(user, user_dir, f"user {user_name!r}", ("client-certificate", "client-key", "tokenFile"))
    auth = PASSTHROUGH if passthrough else auth_method(user)
    if isinstance(user.get("exec"), Mapping):
        _check_exec(user["exec"], user_dir, str(user_name))
    elif not user.get("auth-provider"):
        # The real loader, as the server will run it (certificates decoded, token read); no exec plugin is run.
        info = ContextInfo(name, cluster_name, server, str(user_name or ""), "default", True)
        Contexts(settings).client(info)
    return CredentialSummary(
        source=f"kubeconfig {where}",
        context=name,
        server=safe_server(server),
        auth=auth,
        namespace=str(ctx.get("namespace") or "default"),
        warnings=loopback_warnings(server),
    )


def _check_files(entry: Mapping[str, Any], base: Path, owner: str, keys: tuple[str, ...]) -> None:
    for key in keys:
        value = entry.get(key)
        if not value or entry.get(f"{key}-data"):
            continue
        path = Path(str(value)).expanduser()
        _readable(path if path.is_absolute() else base / path, f"{key} of {owner}:", FLATTEN_HINT)


def _check_exec(plugin: Mapping[str, Any], base: Path, user: str) -> None:
    command = str(plugin.get("command") or "")
    if "/" in command:
        path = Path(command) if Path(command).is_absolute() else base / command
        found = path.is_file() and os.access(path, os.X_OK)
    else:
        found = bool(command) and shutil.which(command) is not None
    if not found:
        raise Unavailable(
            f"user {user!r} authenticates with the exec plugin {command!r}, which is not installed here; "
            "use a kubeconfig with a token or a client certificate"
        )


def loopback_warnings(server: str, in_container: bool | None = None) -> tuple[str, ...]:
    """A warning when, inside a container, the API server is a loopback address where nothing listens.

    A container's loopback is its own unless it shares the host's network (``network_mode: host``), so
    whether the address answers a TCP connect decides it: with the host's network the host's cluster
    answers and nothing is said.
    """
    parts = urlsplit(server)
    host = parts.hostname or ""
    if in_container is None:
        in_container = Path("/.dockerenv").exists() or Path("/run/.containerenv").exists()
    if not in_container or host not in LOOPBACK:
        return ()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return ()
    try:
        with socket.create_connection((host, port), timeout=1):
            return ()
    except OSError:
        pass
    return (
        f"the API server {safe_server(server)} is a loopback address and nothing answers there: inside a container "
        "that is the container itself (use network_mode: host, or a kubeconfig naming host.docker.internal)",
    )
