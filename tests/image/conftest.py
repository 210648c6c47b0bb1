"""Image fixtures: the project's own compose file run against the real test control plane.

The fixtures of the integration suite (the control plane's kubeconfig, the rig's kubectl, a fresh
namespace per test) are reused as they are; without a control plane these tests fail, they do not skip.
"""

from tests.integration.conftest import anyio_backend, kubeconfig, kubectl, namespace

__all__ = ["anyio_backend", "kubeconfig", "kubectl", "namespace"]
