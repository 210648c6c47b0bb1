"""Kind names and the REST resource names they become, for rules written as Kinds (policy, approval rules)."""

from __future__ import annotations


def plural_of(kind: str) -> str:
    """Kubernetes' own pluralisation of a Kind (what CRDs get by default, and right for built-ins)."""
    lower = kind.lower()
    if lower.endswith("s") and lower in {"endpoints"}:
        return lower
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return lower + "es"
    return lower + "s"
