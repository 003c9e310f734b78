"""Memory (PSS of the stack's process tree) at rest, with one session and with several at once, and
whether several sessions at once all succeed (their first segments' times)."""

from __future__ import annotations

import statistics
import threading
import time

from plan import Plan, text
from sessions import first_segment_after_start
from stack import LocalStack, PeakMemory
from stats import percentile


def measure_memory_and_concurrency(stack: LocalStack, plan: Plan, engine: str) -> tuple[dict, dict]:
    spoken = text(plan.long_text)
    time.sleep(plan.rest_seconds)
    at_rest = stack.memory_mb()
    with PeakMemory(stack) as one:
        stack.wait_until_ended(stack.start(spoken, engine)[0], engine)
    first_segments, states = [], []
    with PeakMemory(stack) as many:
        results = [None] * plan.concurrent_sessions

        def session(index: int) -> None:
            results[index] = first_segment_after_start(stack, spoken, engine)

        threads = [threading.Thread(target=session, args=(i,)) for i in range(plan.concurrent_sessions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for started, elapsed in results:
            first_segments.append(elapsed * 1000)
            states.append(stack.wait_until_ended(started, engine)["state"])
    memory = {
        "at_rest_mb": at_rest,
        "one_session_peak_mb": one.peak,
        f"{plan.concurrent_sessions}_sessions_peak_mb": many.peak,
        "per_extra_session_mb": (many.peak - one.peak) / (plan.concurrent_sessions - 1),
    }
    concurrency = {
        "sessions": plan.concurrent_sessions,
        "succeeded": states.count("SUCCESS"),
        "first_segment_p50_ms": statistics.median(first_segments),
        "first_segment_p95_ms": percentile(first_segments, 0.95),
    }
    return memory, concurrency
