"""A long text: audio seconds per wall second, the stack's wall time against the engine alone (with
captions and without, in turn), and the timeline of one session (when each segment was listed)."""

from __future__ import annotations

import statistics

from plan import Plan, text
from sessions import one_long_session
from stack import LocalStack

from .engine_alone import ALONE, ALONE_SECONDS


def measure_throughput_and_limit(
    stack: LocalStack, without_captions: LocalStack, plan: Plan, engine: str
) -> tuple[dict, dict, dict]:
    spoken = text(plan.long_text)
    ours, plain, alone = [], [], []
    for _ in range(plan.repeats):  # alternated: a busy neighbour then weighs on all alike
        ours.append(one_long_session(stack, spoken, engine))
        plain.append(one_long_session(without_captions, spoken, engine))
        alone.append(ALONE_SECONDS[engine](spoken))
    assert all(run["state"] == "SUCCESS" for run in ours + plain), [run["state"] for run in ours + plain]
    wall = statistics.median(run["wall_s"] for run in ours)
    audio = statistics.median(run["audio_s"] for run in ours)
    throughput = {"text": plan.long_text, "audio_s": audio, "wall_s": wall, "audio_per_wall": audio / wall}
    limit = {"plain": ALONE[engine], "plain_wall_s": statistics.median(alone), "ours_wall_s": wall}
    limit["ratio"] = wall / limit["plain_wall_s"]
    limit["without_captions_wall_s"] = statistics.median(run["wall_s"] for run in plain)
    limit["without_captions_ratio"] = limit["without_captions_wall_s"] / limit["plain_wall_s"]
    timeline = min(ours, key=lambda run: abs(run["wall_s"] - wall))
    return throughput, limit, timeline
