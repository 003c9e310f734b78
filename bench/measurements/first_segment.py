"""The first segment listed after the start request, captions on and off, a session on each in turn."""

from __future__ import annotations

import time

from plan import Plan, text
from sessions import first_segment_after_start
from stack import LocalStack
from stats import spread


def measure_first_segment(stack: LocalStack, without_captions: LocalStack, plan: Plan, engine: str) -> dict:
    """The stack as deployed (captions on), and one with CAPTIONS=false, a session on each in turn so
    that both see the same machine; their ratio is what captions cost the first sound."""
    times: dict[LocalStack, list[float]] = {stack: [], without_captions: []}
    for number in range(plan.first_segment_sessions):
        for each in times:
            # The content cache looked up and missed, as for any new words: the text ends its own way.
            spoken = f"{text(plan.first_segment_text)} ({number}, {time.time():.3f})"
            started, elapsed = first_segment_after_start(each, spoken, engine, cache=True)
            times[each].append(elapsed * 1000)
            each.wait_until_ended(started, engine)
    section, plain = spread(times[stack]), spread(times[without_captions])
    return {**section, "without_captions": plain, "captions_ratio": section["p50_ms"] / plain["p50_ms"]}
