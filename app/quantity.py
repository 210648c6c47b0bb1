"""Kubernetes resource quantities ('250m', '1.5Gi') parsed and printed as ``kubectl top`` does."""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal

_SUFFIXES: dict[str, Decimal] = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$")


def parse_quantity(text: str | int | float) -> Decimal:
    """A Kubernetes quantity ('250m', '1.5Gi', '999982n', '1e3', 4) as a number of base units."""
    if isinstance(text, int | float):
        return Decimal(str(text))
    match = _QUANTITY.match(text.strip())
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, exponent, suffix = match.groups()
    value = Decimal(number)
    if exponent:
        return value * (Decimal(10) ** int(exponent[1:]))
    return value * _SUFFIXES[suffix or ""]


def format_cpu(cores: Decimal) -> str:
    """Millicores, as ``kubectl top`` prints CPU(cores)."""
    return f"{int((cores * 1000).to_integral_value(rounding=ROUND_CEILING))}m"


def format_memory(num_bytes: Decimal) -> str:
    """Mebibytes, as ``kubectl top`` prints MEMORY(bytes)."""
    return f"{int(num_bytes / (1024 * 1024))}Mi"


def format_bytes(num_bytes: Decimal | int | float) -> str:
    """A short binary size: 512B, 3.4Ki, 120Mi, 7.9Gi."""
    value = float(num_bytes)
    for unit in ("B", "Ki", "Mi", "Gi", "Ti"):
        if abs(value) < 1024 or unit == "Ti":
            return f"{value:.0f}{unit}" if unit == "B" or value >= 100 else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}Ti"
