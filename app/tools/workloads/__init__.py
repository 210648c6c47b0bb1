"""Workload tools: scale and rollouts (``workloads``) over pure rollout logic (``rollout``)."""
