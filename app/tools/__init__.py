"""Tool specs and their handlers, one package per toolset; ``catalog`` lists them all.

No MCP, HTTP or Kubernetes-client imports here: handlers raise our errors and return ``ToolResult``."""
