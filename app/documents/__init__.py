"""MCP resources, called documents here so "resources" always means Kubernetes resources: objects by URI (``objects``),
the cluster summary (``summary``) and manifest templates (``templates/``)."""
