"""Helm through pyhelm3 and the ``helm`` v3 binary: the one choke point for every Helm command.

pyhelm3 builds the commands (list, status, history, get values, rollback, uninstall) and we build
install/upgrade ourselves (pyhelm3 only knows ``upgrade --install``). Every command then runs through
``_Command.run``, which replaces pyhelm3's shell runner so that, like ``Kube.request`` for API calls,
one place does: the read-only policy check, the dry-run guard, the credentials of the chosen context,
the timeout, the translation of helm's stderr into our exception tree, the metrics and the log line
carrying the correlation id. pyhelm3's ``Client`` is not used: it asserts on a missing binary and
parses ``helm version`` as strict semver at construction, which fails for builds reporting "v3.22".

Credentials: never a rewritten kubeconfig. Kubeconfig mode hands helm the same file list (``KUBECONFIG``)
and the call's context (``--kube-context``); in-cluster mode hands it the API server, the service
account token and CA of ``service_account_dir`` through helm's own environment variables (the token
is re-read on every call, so rotated tokens keep working, and never appears on a command line).
``cluster_auth`` applies as for every API call: ``impersonate`` adds helm's HELM_KUBEASUSER/GROUPS,
``passthrough`` hands helm the caller's own token (HELM_KUBETOKEN) with the context's URL and CA only.

Long changes are watched and stoppable (``kube/process.py``): when the client listens, a change runs
with ``--debug`` and each stderr line becomes a log line and, where it says how the wait stands, a
progress message (``kube/helmlines.py``); when the call is cancelled or times out, helm's whole
process group is terminated (SIGTERM, then SIGKILL), so no helm keeps working behind a cancelled call.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import yaml

from app import errors, tracing
from app.config import Settings
from app.kube.client import caller_headers
from app.kube.contexts import IN_CLUSTER, ContextInfo, Contexts
from app.kube.gate import gate_active, judge_objects
from app.kube.helmlines import HelmWatch, without_debug
from app.kube.helmref import ChartRef, classify_chart, translate
from app.kube.process import OnLine, run_watched
from app.observability import Metrics
from app.policy import Policy
from app.scope import dry_run_active, notices

log = logging.getLogger("k8s_mcp.helm")

#: Commands that change the cluster: policy-checked, and never run while a change is only previewed.
CHANGES = frozenset({"install", "upgrade", "rollback", "uninstall"})
#: Seconds a helm process may run beyond the timeout it was given before we stop it.
PROCESS_MARGIN = 30.0
#: Helm settings from the server's own environment that would override the call's credentials.
_CREDENTIAL_ENV = (
    "KUBECONFIG",
    "HELM_KUBECONTEXT",
    "HELM_KUBEAPISERVER",
    "HELM_KUBETOKEN",
    "HELM_KUBECAFILE",
    "HELM_KUBEASUSER",
    "HELM_KUBEASGROUPS",
    "HELM_KUBEINSECURE_SKIP_TLS_VERIFY",
    "HELM_KUBETLS_SERVER_NAME",
    "HELM_NAMESPACE",
)


@dataclass(frozen=True)
class Target:
    """How one helm process reaches the cluster of one context."""

    context: str
    flags: tuple[str, ...]
    env: dict[str, str] = field(repr=False)


@dataclass(frozen=True)
class Probe:
    """What /readyz says about Helm."""

    ok: bool
    detail: str


@dataclass(frozen=True)
class ChartRequest:
    """An install or upgrade, as the handlers ask for it."""

    name: str | None
    chart: ChartRef
    namespace: str
    values: dict[str, Any]
    version: str | None = None
    create_namespace: bool = False
    wait: bool = False
    timeout: int = 300
    dry_run: bool = False
    install: bool = True  # upgrade only: install when the release does not exist
    reuse_values: bool = False
    reset_values: bool = False
    description: str | None = None


def chart_args(req: ChartRequest, *, upgrade: bool, dry_run: bool) -> list[str]:
    """The helm command line for an install (``upgrade=False``) or upgrade; values go on stdin."""
    args = ["upgrade" if upgrade else "install"]
    if req.name:
        args.append(req.name)
    elif not upgrade:
        args.append("--generate-name")
    args += [req.chart.ref, "--namespace", req.namespace, "--output", "json", "--values", "-"]
    args += ["--timeout", f"{req.timeout}s"]
    if req.chart.repo:
        args += ["--repo", req.chart.repo]
    if req.version:
        args += ["--version", req.version]
    if req.create_namespace:
        args.append("--create-namespace")
    if req.wait:
        args += ["--wait", "--wait-for-jobs"]
    if req.description:
        args += ["--description", req.description]
    if upgrade:
        if req.install:
            args += ["--install", "--history-max", "10"]
        else:
            args += ["--history-max", "10"]
        if req.reuse_values:
            args.append("--reuse-values")
        if req.reset_values:
            args.append("--reset-values")
    if dry_run:
        args.append("--dry-run=server")
    return args


def local_chart_version(path: str) -> str | None:
    """The version in a local chart's Chart.yaml (directory or .tgz); None when it cannot be read."""
    try:
        target = Path(path).expanduser()
        if target.is_dir():
            text = (target / "Chart.yaml").read_text(encoding="utf-8")
        else:
            with tarfile.open(target) as archive:
                member = next(
                    m for m in archive.getmembers() if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml")
                )
                handle = archive.extractfile(member)
                if handle is None:
                    return None
                text = handle.read().decode("utf-8")
        data = yaml.safe_load(text) or {}
    except (OSError, StopIteration, tarfile.TarError, yaml.YAMLError, UnicodeDecodeError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return str(version) if version is not None else None


def _state_env() -> dict[str, str]:
    """Helm keeps caches and repository files under $HOME; give it a scratch place when $HOME is unusable."""
    home = os.environ.get("HOME")
    if home and os.access(home, os.W_OK):
        return {}
    base = Path(tempfile.gettempdir()) / "k8s-mcp-helm"
    return {
        name: str(base / sub)
        for name, sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"), ("HELM_DATA_HOME", "data"))
        if not os.environ.get(name)
    }


if TYPE_CHECKING:
    import pyhelm3


@cache
def _command_class() -> type[pyhelm3.Command]:
    """``_Command``, made on first use: pyhelm3 (and its models) load only when a Helm tool runs."""
    import pyhelm3

    class _Command(pyhelm3.Command):  # type: ignore[misc]
        """pyhelm3's command builders, run by ``Helm.execute`` instead of a shell."""

        def __init__(
            self, helm: Helm, target: Target, *, release: str | None, namespace: str | None, timeout: int
        ) -> None:
            super().__init__(executable=helm.settings.helm_binary, default_timeout=f"{timeout}s")
            self._helm = helm
            self._target = target
            self._release = release
            self._namespace = namespace
            self._timeout = timeout

        async def run(self, command: list[Any], input: bytes | None = None) -> bytes:
            return await self._helm.execute(
                [str(part) for part in command],
                input,
                self._target,
                release=self._release,
                namespace=self._namespace,
                timeout=self._timeout,
            )

    return _Command


class Helm:
    """Runs helm for the tools; one instance per server, sharing the cluster settings of ``Kube``."""

    def __init__(self, settings: Settings, contexts: Contexts, metrics: Metrics, policy: Policy) -> None:
        self.settings = settings
        self._contexts = contexts
        self._metrics = metrics
        self._policy = policy
        self._limiter = anyio.CapacityLimiter(8)
        self._state_env = _state_env()
        self._versions: dict[str, str] = {}

    # --- the binary ------------------------------------------------------------------------------

    def binary(self) -> str | None:
        """The helm executable's path, or None when it is missing (looked up on every call)."""
        configured = self.settings.helm_binary
        if os.sep in configured:
            path = Path(configured).expanduser()
            return str(path) if path.is_file() and os.access(path, os.X_OK) else None
        return shutil.which(configured)

    def _require_binary(self) -> str:
        found = self.binary()
        if found is None:
            configured = self.settings.helm_binary
            where = "does not exist or is not executable" if os.sep in configured else "is not on PATH"
            raise errors.Unavailable(
                f"the helm binary {configured!r} {where}; install helm v3 or set K8S_MCP_HELM_BINARY"
            )
        return found

    async def probe(self) -> Probe:
        """Whether Helm tools can run: the binary exists and answers ``helm version``."""
        try:
            binary = self._require_binary()
        except errors.Unavailable as e:
            return Probe(False, str(e))
        if binary not in self._versions:
            try:
                with anyio.fail_after(10):
                    done = await anyio.run_process(
                        [binary, "version", "--template", "{{ .Version }}"], check=False, env=self._base_env()
                    )
            except (OSError, TimeoutError) as e:
                return Probe(False, f"helm at {binary} did not run: {e}")
            if done.returncode != 0:
                return Probe(False, f"helm at {binary} failed: {done.stderr.decode(errors='replace').strip()[:200]}")
            self._versions[binary] = done.stdout.decode().strip()
        return Probe(True, f"helm {self._versions[binary]} at {binary}")

    # --- credentials -----------------------------------------------------------------------------

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _CREDENTIAL_ENV}
        env.update(self._state_env)
        return env

    def _target(self, context: str | None) -> Target:
        """How helm reaches the context's cluster, as the caller when ``cluster_auth`` says so."""
        ctx = self._contexts.resolve(context)
        mode = self.settings.cluster_auth_mode
        if mode == "passthrough":
            return self._passthrough_target(ctx)
        target = self._server_target(ctx)
        if mode == "impersonate":  # helm's own --kube-as-user/--kube-as-group, through its environment
            asked: dict[str, str] = {}
            groups = caller_headers(self.settings, asked)
            target.env["HELM_KUBEASUSER"] = asked["Impersonate-User"]
            if groups:
                target.env["HELM_KUBEASGROUPS"] = ",".join(groups)
        return target

    def _passthrough_target(self, ctx: ContextInfo) -> Target:
        """The API server's URL and CA from the context, the caller's token, and no credential of ours."""
        asked: dict[str, str] = {}
        caller_headers(self.settings, asked)
        configuration = self._contexts.client(ctx).configuration
        env = {
            "KUBECONFIG": os.devnull,
            "HELM_KUBEAPISERVER": str(configuration.host),
            "HELM_KUBETOKEN": asked["Authorization"].removeprefix("Bearer "),
        }
        if configuration.ssl_ca_cert:
            env["HELM_KUBECAFILE"] = str(configuration.ssl_ca_cert)
        if not configuration.verify_ssl:
            env["HELM_KUBEINSECURE_SKIP_TLS_VERIFY"] = "true"
        if configuration.tls_server_name:
            env["HELM_KUBETLS_SERVER_NAME"] = str(configuration.tls_server_name)
        return Target(ctx.name, (), env)

    def _server_target(self, ctx: ContextInfo) -> Target:
        if self._contexts.kind == IN_CLUSTER:
            sa_dir = self._contexts.service_account_dir
            try:
                token = (sa_dir / "token").read_text(encoding="utf-8").strip()
            except OSError as e:
                raise errors.Unavailable(f"cannot read the service account token in {sa_dir}: {e.strerror}") from e
            env = {"KUBECONFIG": os.devnull, "HELM_KUBEAPISERVER": self._contexts.in_cluster_server()}
            env["HELM_KUBETOKEN"] = token
            if (sa_dir / "ca.crt").exists():
                env["HELM_KUBECAFILE"] = str(sa_dir / "ca.crt")
            return Target(ctx.name, (), env)
        kubeconfig = self._contexts.kubeconfig
        if not kubeconfig:
            raise errors.Unavailable("no cluster configured for helm")
        return Target(ctx.name, ("--kube-context", ctx.name), {"KUBECONFIG": kubeconfig})

    async def _command(
        self, context: str | None, *, release: str | None, namespace: str | None, timeout: int | None = None
    ) -> Any:
        """pyhelm3's command builders for ``context``, run through ``execute``."""
        target = await anyio.to_thread.run_sync(self._target, context)
        seconds = timeout if timeout is not None else int(self.settings.api_timeout) + 10
        return _command_class()(self, target, release=release, namespace=namespace, timeout=seconds)

    # --- the choke point -------------------------------------------------------------------------

    async def execute(
        self,
        args: list[str],
        stdin: bytes | None,
        target: Target,
        *,
        release: str | None,
        namespace: str | None,
        timeout: int,
    ) -> bytes:
        command = args[0] if args[0] != "get" or len(args) < 2 else f"get {args[1]}"
        previewing = "--dry-run" in args or any(a.startswith("--dry-run=") for a in args)
        what = f"helm {command} {namespace or ''}/{release or ''}".rstrip("/")
        self._policy.check_helm_namespace(namespace, all_namespaces="--all-namespaces" in args or "-A" in args)
        if args[0] in CHANGES:
            self._policy.check_change(what, destructive=args[0] in {"uninstall", "rollback"})
            if dry_run_active() and not previewing:
                raise errors.PolicyDenied(f"{what} cannot be previewed; it was not run")
        binary = self._require_binary()
        argv = [binary, *args, *target.flags]
        env = {**self._base_env(), **target.env}
        started = time.perf_counter()
        outcome = "error"
        limit = timeout + PROCESS_MARGIN
        attributes = {
            "helm.command": command,
            "helm.release": release,
            "k8s.namespace.name": namespace,
            "k8s.context": target.context,
            "k8s_mcp.dry_run": previewing,
        }
        with tracing.span(f"helm {command}", attributes=attributes) if tracing.in_trace() else tracing.NO_SPAN as span:
            watch = self._watch(args[0], command, previewing)
            if watch is not None:
                argv.append("--debug")
                await notices().progress(f"{what}: started")
            try:
                async with self._limiter:
                    with anyio.fail_after(limit):
                        done = await run_watched(argv, stdin=stdin, env=env, on_line=watch)
            except anyio.get_cancelled_exc_class():
                outcome = "cancelled"
                raise
            except TimeoutError as e:
                outcome = "timeout"
                raise errors.Timeout(f"helm {command} did not finish within {limit:g}s") from e
            except OSError as e:
                outcome = "unrunnable"
                raise errors.Unavailable(f"cannot run helm at {binary}: {e.strerror or e}") from e
            else:
                tracing.set_attributes(span, {"process.exit.code": done.returncode})
                if done.returncode == 0:
                    outcome = "ok"
                    return bytes(done.stdout)
                stderr = without_debug(done.stderr.decode("utf-8", "replace"))
                error = translate(stderr, release=release, namespace=namespace)
                outcome = type(error).__name__.lower()
                raise error
            finally:
                elapsed = time.perf_counter() - started
                tracing.set_attributes(span, {"k8s_mcp.outcome": outcome})
                if outcome != "ok":
                    tracing.mark_error(span, outcome)
                self._metrics.helm_calls.labels(command, outcome).inc()
                self._metrics.helm_latency.labels(command).observe(elapsed)
                log.info(
                    "helm call",
                    extra={
                        "command": command,
                        "release": release,
                        "namespace": namespace,
                        "context": target.context,
                        "dry_run": previewing,
                        "outcome": outcome,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )

    @staticmethod
    def _watch(verb: str, command: str, previewing: bool) -> OnLine | None:
        """For a change the client listens to: helm's stderr lines as log lines and progress messages."""
        notifier = notices()
        if verb not in CHANGES or previewing or not notifier.listening:
            return None
        watch = HelmWatch(command)

        async def on_line(raw: str) -> None:
            line, message = watch.read(raw)
            if line is not None:
                await notifier.log(line.level, f"helm {command}: {line.text}")
            if message is not None:
                await notifier.progress(message)

        return on_line

    # --- operations (plain data in, plain data out) ----------------------------------------------

    async def list_releases(
        self, context: str | None, *, namespace: str | None, state: str | None, name_filter: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Releases in ``namespace`` (None: every namespace); ``state`` None = helm's default (deployed, failed)."""
        cmd = await self._command(context, release=None, namespace=namespace)
        args = ["list", "--output", "json", "--max", str(limit)]
        args += ["--all-namespaces"] if namespace is None else ["--namespace", namespace]
        if name_filter:
            args += ["--filter", name_filter]
        if state:
            args.append(f"--{state}")
        found = json.loads(await cmd.run(args) or b"[]")
        return list(found or [])

    async def status(
        self,
        context: str | None,
        *,
        name: str,
        namespace: str,
        revision: int | None = None,
        with_chart: bool = True,
    ) -> dict[str, Any]:
        """``helm status -o json`` plus, with ``with_chart``, the chart's metadata (name, version, appVersion)."""
        cmd = await self._command(context, release=name, namespace=namespace)
        status: dict[str, Any] = await cmd.status(name, namespace=namespace, revision=revision)
        if not with_chart:
            return status
        chart = await cmd.get_chart_metadata(name, namespace=namespace, revision=revision or status.get("version"))
        status["chart"] = {"metadata": chart if isinstance(chart, dict) else {}}
        return status

    async def history(self, context: str | None, *, name: str, namespace: str, limit: int) -> list[dict[str, Any]]:
        cmd = await self._command(context, release=name, namespace=namespace)
        return list(await cmd.history(name, max_revisions=limit, namespace=namespace))

    async def values(
        self, context: str | None, *, name: str, namespace: str, computed: bool, revision: int | None
    ) -> dict[str, Any]:
        cmd = await self._command(context, release=name, namespace=namespace)
        values: dict[str, Any] = await cmd.get_values(name, computed=computed, namespace=namespace, revision=revision)
        return values

    async def install(self, context: str | None, req: ChartRequest) -> dict[str, Any]:
        return await self._chart_command(context, req, upgrade=False)

    async def upgrade(self, context: str | None, req: ChartRequest) -> dict[str, Any]:
        return await self._chart_command(context, req, upgrade=True)

    async def _chart_command(self, context: str | None, req: ChartRequest, *, upgrade: bool) -> dict[str, Any]:
        dry_run = req.dry_run or dry_run_active()
        cmd = await self._command(context, release=req.name, namespace=req.namespace, timeout=req.timeout)
        if dry_run and not upgrade and req.name:
            await self._refuse_existing(cmd, req.name, req.namespace)
        out = await cmd.run(chart_args(req, upgrade=upgrade, dry_run=dry_run), json.dumps(req.values).encode())
        # Helm may print "Pulled: ..." lines for OCI charts before the JSON document.
        start = out.find(b"{")
        if start < 0:
            raise errors.KubeError("helm answered without a release document")
        result: dict[str, Any] = json.loads(out[start:])
        if dry_run:  # the approval rules judge each object the release would create or update
            judge_objects(
                "update" if upgrade else "create", manifest_dicts(result.get("manifest")), namespace=req.namespace
            )
        return result

    async def _refuse_existing(self, cmd: Any, name: str, namespace: str) -> None:
        """A dry-run install does not check the name (helm's does not); a preview must fail like the real one."""
        try:
            await cmd.status(name, namespace=namespace)
        except errors.NotFound:
            return
        raise errors.Conflict(
            f"release {name!r} already exists in namespace {namespace}; use helm_upgrade to change it"
        )

    async def judge_release(
        self, context: str | None, *, name: str, namespace: str, verb: str, revision: int | None = None
    ) -> None:
        """Judge the objects of a release revision by the approval rules (a rollback or uninstall preview)."""
        if not gate_active():
            return
        status = await self.status(context, name=name, namespace=namespace, revision=revision, with_chart=False)
        judge_objects(verb, manifest_dicts(status.get("manifest")), namespace=namespace)

    async def rollback(
        self, context: str | None, *, name: str, namespace: str, revision: int | None, wait: bool, timeout: int
    ) -> None:
        cmd = await self._command(context, release=name, namespace=namespace, timeout=timeout)
        await cmd.rollback(name, revision, namespace=namespace, wait=wait, timeout=f"{timeout}s")

    async def uninstall(
        self, context: str | None, *, name: str, namespace: str, keep_history: bool, wait: bool, timeout: int
    ) -> None:
        cmd = await self._command(context, release=name, namespace=namespace, timeout=timeout)
        await cmd.uninstall(name, keep_history=keep_history, namespace=namespace, wait=wait, timeout=f"{timeout}s")


def manifest_dicts(manifest: Any) -> list[dict[str, Any]]:
    """The objects of a rendered release manifest (YAML documents), skipping empty and unparsable ones."""
    try:
        docs = list(yaml.safe_load_all(str(manifest or "")))
    except yaml.YAMLError:
        return []
    return [d for d in docs if isinstance(d, dict) and d.get("kind")]


def resolve_chart(chart: str, repo: str | None) -> ChartRef:
    """Classify a chart reference, checking local paths on the server's filesystem."""
    path = Path(chart.strip()).expanduser() if chart.strip() else None
    exists = bool(path and not chart.strip().startswith(("oci://", "http://", "https://")) and path.exists())
    ref = classify_chart(chart, repo, exists=exists and not repo)
    if ref.kind == "local" and path is not None:
        return ChartRef(str(path.resolve()), "local")
    return ref
