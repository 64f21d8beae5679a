"""What every benchmark round reports from its timings."""

from __future__ import annotations


def percentile(values: list[float], p: float) -> float:
    """The value at the p-th percentile of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
