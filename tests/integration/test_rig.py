"""The test control plane itself works: pods of a Deployment run, and logs, exec and metrics go through
the API server (checked with the rig's kubectl, independently of our server)."""

from __future__ import annotations

import json

from tests.integration.conftest import Kubectl

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
"""


def running_pods(kubectl: Kubectl, namespace: str, selector: str) -> list[str]:
    pods = json.loads(kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json"))["items"]
    return [p["metadata"]["name"] for p in pods if p["status"].get("phase") == "Running"]


def test_pods_of_a_deployment_reach_running(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    kubectl.wait_until("2 running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) == 2)


def test_pod_logs_exec_and_metrics_work_through_the_api_server(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(DEPLOYMENT, namespace)
    kubectl.wait_until("running pods", lambda: len(running_pods(kubectl, namespace, "app=web")) >= 1)
    pod = running_pods(kubectl, namespace, "app=web")[0]

    logs = kubectl("logs", "-n", namespace, pod, "--tail", "3")
    assert "k8s-mcp test log line 1000" in logs

    echoed = kubectl("exec", "-n", namespace, pod, "--", "echo", "hello-from-exec")
    assert echoed.strip() == "hello-from-exec"

    kubectl.wait_until(
        "node metrics",
        lambda: "kwok-node-0" in kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes", check=False),
    )
    kubectl.wait_until(
        "pod metrics",
        lambda: (
            pod in kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods", check=False)
        ),
        timeout=120,
    )
