"""The infra.k8s tool profile (``--tool-profile infra``): its names over the default catalog's handlers."""
