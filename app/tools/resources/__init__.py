"""Tools for any Kubernetes kind, CRDs included: list, get, apply, patch, delete (``generic``, ``apply``) and
describe.
"""
