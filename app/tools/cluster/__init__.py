"""Cluster-level tools: namespaces, contexts, API resources, explain, version (``cluster``) and events."""
