"""The start answer, one at a time and back to back, against a trivial GET of the same stack."""

from __future__ import annotations

import time

from plan import Plan
from stack import LocalStack
from stats import spread


def measure_start_answer(stack: LocalStack, plan: Plan, engine: str) -> dict:
    """Start answers one at a time (0.5 s apart, so the sessions they start do not overlap), and back
    to back (each answer then competes for the two cores with the sessions the previous ones began)."""
    figures = {}
    for label, gap in (("apart", 0.5), ("back_to_back", 0.0)):
        times, sessions = [], []
        for number in range(plan.start_requests):
            # As a user's start runs: the content cache looked up (a miss: words of its own each time).
            started, elapsed = stack.start(f"Hello there, {label} {number}, {time.time():.3f}.", engine, cache=True)
            times.append(elapsed * 1000)
            sessions.append(started)
            time.sleep(gap)
        for started in sessions:
            stack.wait_until_ended(started, engine)
        figures[label] = spread(times)
    trivial = []
    for _ in range(plan.start_requests):
        began = time.perf_counter()
        stack.http.get(f"{stack.url}/audiostream/engines/", timeout=30).raise_for_status()
        trivial.append((time.perf_counter() - began) * 1000)
    answer = {**figures["apart"], "back_to_back": figures["back_to_back"], "trivial_get": spread(trivial)}
    answer["vs_trivial_get"] = answer["p50_ms"] / answer["trivial_get"]["p50_ms"]
    return answer
