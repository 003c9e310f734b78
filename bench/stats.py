"""How the bench sums up repeated timings."""

from __future__ import annotations

import statistics


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def spread(times: list[float]) -> dict:
    return {"n": len(times), "p50_ms": statistics.median(times), "p95_ms": percentile(times, 0.95)}
