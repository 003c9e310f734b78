"""Start to playable when the content cache has the words."""

from __future__ import annotations

import time

from plan import Plan, text
from sessions import first_segment_after_start
from stack import LocalStack
from stats import spread


def measure_cache_hit(stack: LocalStack, plan: Plan, engine: str) -> dict:
    """Start to playable (the first segment listed) when the content cache has the words: one start
    makes the stream, then each identical start plays it."""
    spoken = text(plan.first_segment_text) + f" ({engine}, {time.time():.0f})"  # not one of the other runs
    first, _ = first_segment_after_start(stack, spoken, engine, cache=True)
    stack.wait_until_ended(first, engine)
    times, cached = [], []
    for _ in range(plan.cache_hits):
        started, elapsed = first_segment_after_start(stack, spoken, engine, cache=True)
        times.append(elapsed * 1000)
        cached.append(started.get("cached"))
    if not all(cached):
        raise RuntimeError(f"not every identical start was served from the cache: {cached}")
    return spread(times)
