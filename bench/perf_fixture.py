"""The cluster side of the benchmark: a namespace of pods, a Deployment, events, and a clean-up.

Everything is made with the rig's kubectl in bulk (one ``create`` of a List per chunk), waited for
with bounded polls, and removed at the end. The direct API client used for the floor reads the same
kubeconfig (client certificate or bearer token) and talks HTTPS to the API server with keep-alive.
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import yaml
from peers import rig_bin

POD_PREFIX = "bench-pod-"
DEPLOYMENT = "bench-web"


class Kubectl:
    def __init__(self, kubeconfig: Path) -> None:
        self.binary = str(rig_bin() / "kubectl")
        self.kubeconfig = str(kubeconfig)

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 300) -> str:
        result = subprocess.run(
            [self.binary, "--kubeconfig", self.kubeconfig, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args[:3])} failed: {result.stderr.strip()[:500]}")
        return result.stdout

    def count(self, *args: str) -> int:
        return len([line for line in self("get", *args, "-o", "name", timeout=120).splitlines() if line.strip()])


def wait_until(what: str, predicate: Any, timeout: float, interval: float = 1.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def create_namespace(kubectl: Kubectl, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    wait_until(
        f"service account default in {name}",
        lambda: kubectl("get", "sa", "default", "-n", name, check=False).strip() != "",
        60,
        0.3,
    )
    return name


def pod_list(namespace: str, names: list[str]) -> str:
    items = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": "bench", "tier": "load"}},
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "busybox:1.36",
                        "env": [{"name": "MODE", "value": "bench"}],
                        "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}},
                    }
                ]
            },
        }
        for name in names
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def create_pods(kubectl: Kubectl, namespace: str, count: int, *, chunk: int = 500, prefix: str = POD_PREFIX) -> None:
    names = [f"{prefix}{i:04d}" if count > 999 else f"{prefix}{i:03d}" for i in range(count)]
    for start in range(0, count, chunk):
        kubectl("create", "-f", "-", stdin=pod_list(namespace, names[start : start + chunk]), timeout=600)


DEPLOYMENT_MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
  labels: {{app: web}}
  annotations: {{team: platform, purpose: benchmark}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{{containerPort: 80}}]
        env: [{{name: LOG_LEVEL, value: info}}]
        resources: {{requests: {{cpu: 10m, memory: 16Mi}}, limits: {{memory: 64Mi}}}}
"""


@dataclass(frozen=True)
class Fixture:
    namespace: str
    pods: int
    pod: str
    deployment: str
    events: int
    seconds: float

    def small_gets(self) -> dict[str, dict[str, str]]:
        """The two single-object reads the profiles time: tool name -> arguments."""
        return {
            "pods_get": {"name": self.pod, "namespace": self.namespace},
            "resources_get": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": self.deployment,
                "namespace": self.namespace,
            },
        }


def create_fixture(kubectl: Kubectl, pods: int = 200) -> Fixture:
    """``pods`` pods in a fresh namespace: pods-1 bare ones plus one from a Deployment; all Running."""
    started = time.monotonic()
    namespace = create_namespace(kubectl, "bench-perf")
    kubectl("apply", "-f", "-", stdin=DEPLOYMENT_MANIFEST.format(name=DEPLOYMENT, namespace=namespace))
    create_pods(kubectl, namespace, pods - 1)

    def running() -> bool:
        return kubectl.count("pods", "-n", namespace, "--field-selector=status.phase=Running") >= pods

    wait_until(f"{pods} running pods in {namespace}", running, 300, 2)
    wait_until(
        "the Deployment to be available",
        lambda: (
            kubectl("get", "deploy", DEPLOYMENT, "-n", namespace, "-o", "jsonpath={.status.availableReplicas}") == "1"
        ),
        120,
    )
    events = kubectl.count("events", "-n", namespace)
    return Fixture(namespace, pods, f"{POD_PREFIX}000", DEPLOYMENT, events, time.monotonic() - started)


def delete_namespace(kubectl: Kubectl, namespace: str, *, wait: float = 0) -> None:
    kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    if wait:
        try:
            wait_until(
                f"namespace {namespace} to go",
                lambda: kubectl("get", "namespace", namespace, check=False).strip() == "",
                wait,
                2,
            )
        except TimeoutError as e:
            print(f"[bench] {e}; it is still terminating")


# ---------------------------------------------------------------- the floor: direct API calls


class DirectApi:
    """An HTTPS client for the API server with the kubeconfig's credentials (current context)."""

    def __init__(self, kubeconfig: Path) -> None:
        doc = yaml.safe_load(kubeconfig.read_text())
        ctx_name = doc.get("current-context")
        ctx = next(c["context"] for c in doc["contexts"] if c["name"] == ctx_name)
        cluster = next(c["cluster"] for c in doc["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in doc["users"] if u["name"] == ctx["user"])
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-floor-")
        tls = ssl.create_default_context(cafile=self._file(cluster, "certificate-authority"))
        headers = {}
        cert = self._file(user, "client-certificate")
        key = self._file(user, "client-key")
        if cert and key:
            tls.load_cert_chain(cert, key)
        if user.get("token"):
            headers["Authorization"] = f"Bearer {user['token']}"
        self.client = httpx2.AsyncClient(base_url=cluster["server"], verify=tls, headers=headers, timeout=60)

    def _file(self, section: dict[str, Any], key: str) -> str | None:
        if section.get(key):
            return str(section[key])
        data = section.get(f"{key}-data")
        if not data:
            return None
        path = Path(self._tmp.name) / key
        path.write_bytes(base64.b64decode(data))
        return str(path)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        accept: str = "application/json",
        body: Any = None,
    ) -> int:
        """Send one request, read the whole body; the number of bytes received."""
        headers = {"Accept": accept}
        content = None
        if body is not None:
            headers["Content-Type"] = "application/apply-patch+yaml"
            content = json.dumps(body).encode()
        response = await self.client.request(method, path, params=params, headers=headers, content=content)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code} {response.text[:200]}")
        return len(response.content)

    async def close(self) -> None:
        await self.client.aclose()
        self._tmp.cleanup()
