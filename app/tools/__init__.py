"""Tool specs and their handlers, one module per domain; no MCP, HTTP or Kubernetes-client imports."""
