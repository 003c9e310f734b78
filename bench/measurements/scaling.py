"""How time and memory grow with the text and with sessions at once."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from plan import Plan, sentences_up_to
from sessions import one_long_session
from stack import LocalStack, PeakMemory


def measure_scaling(stack: LocalStack, plan: Plan, engine: str) -> dict:
    """How time and memory grow with the text (first segment flat, total linear, memory flat) and
    with sessions at once on this machine's two cores."""
    by_text = {}
    for chars in plan.scaling_chars:
        spoken = sentences_up_to(chars)
        runs, peaks = [], []
        for _ in range(plan.scaling_repeats):
            time.sleep(plan.rest_seconds)
            at_rest = stack.memory_mb()
            with PeakMemory(stack) as peak:
                runs.append(one_long_session(stack, spoken + f" ({time.time():.3f})", engine))
            peaks.append(peak.peak - at_rest)
        by_text[str(chars)] = {
            "characters": len(spoken),
            "audio_s": statistics.median(run["audio_s"] for run in runs),
            "first_segment_ms": statistics.median(run["listed_at_s"][0] * 1000 for run in runs),
            "total_s": statistics.median(run["wall_s"] for run in runs),
            "memory_mb": statistics.median(peaks),
        }
    by_sessions = {}
    spoken = sentences_up_to(1000)
    for count in plan.scaling_sessions:
        time.sleep(plan.rest_seconds)
        at_rest = stack.memory_mb()
        texts = [spoken + f" ({index}, {time.time():.3f})" for index in range(count)]
        began = time.perf_counter()
        with PeakMemory(stack) as peak, ThreadPoolExecutor(max_workers=count) as pool:
            results = list(pool.map(one_long_session, [stack] * count, texts, [engine] * count))
        by_sessions[str(count)] = {
            "succeeded": sum(1 for run in results if run and run["state"] == "SUCCESS"),
            "first_segment_p50_ms": statistics.median(run["listed_at_s"][0] * 1000 for run in results),
            "all_done_s": time.perf_counter() - began,
            "memory_mb": peak.peak - at_rest,
        }
    return {"by_text": by_text, "by_sessions": by_sessions}
