"""What a minute of audio costs: one session as the page runs it (its status polled as often as the
page polled it in chromium), counted: the storage requests, the stack's CPU, what is stored; and
their price for 1,000 minutes (bench/costs.py), on either architecture, beside hosted voices'."""

from __future__ import annotations

import math
import statistics
import time

from costs import MEDIA_KEPT_DAYS, cost_of, hosted_costs
from plan import Plan, text
from stack import LocalStack


def measure_costs(
    stack: LocalStack, spoken: str, engine: str, audio_per_wall: float, poll_waits_s: tuple[float, float]
) -> dict:
    """One session as the page runs it (its status polled at the page's rate, no other request),
    counted: the storage requests, the stack's CPU, what is stored. Per minute of audio.
    ``poll_waits_s``: the page's wait after a status answer, until one names a segment and after."""
    time.sleep(0.5)  # the previous session's last writes
    before, cpu_before = stack.storage_counts(), stack.cpu_seconds()
    started, start_s = stack.start(spoken, engine)
    polls, status_s = 0, []
    while True:
        began = time.perf_counter()
        status = stack.status(started)
        status_s.append(time.perf_counter() - began)
        polls += 1
        if status["state"] in ("SUCCESS", "FAILURE", "REVOKED"):
            break
        time.sleep(poll_waits_s[status.get("segments", 0) > 0])
    if status["state"] != "SUCCESS" or status.get("engine") != engine:
        raise RuntimeError(f"the counted session ended {status['state']} ({status.get('engine')})")
    cpu = stack.cpu_seconds() - cpu_before
    after = stack.storage_counts()
    counts = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    counts = {name: count for name, count in sorted(counts.items()) if count}
    objects = stack.stored_objects(started["session_id"])
    minutes = status["duration"] / 60
    played = {name: size for name, size in objects.items() if not name.endswith(".m4a")}  # the file is optional
    playlists = sum(1 for name in objects if name.endswith(".m3u8"))
    # A listener's player: every object once (CloudFront keeps them), and the two media playlists
    # again at each reload while the stream is live (about every target duration of generation).
    target = stack.playlist(started).target_duration
    reloads = 2 * math.ceil(60 / audio_per_wall * minutes / target)
    puts = sum(count for name, count in counts.items() if name.startswith("s3 PUT"))
    writes = sum(counts.get(f"dynamodb {op}", 0) for op in ("PutItem", "UpdateItem", "DeleteItem"))
    reads = sum(counts.get(f"dynamodb {op}", 0) for op in ("GetItem", "Query"))
    start_puts = 3 if status.get("master") else 1  # the empty playlists start writes
    return {
        "audio_s": status["duration"],
        "characters": len(spoken),
        "storage_requests": counts,
        "per_minute": {
            "s3_puts": puts / minutes,
            "s3_puts_by_generate": (puts - start_puts) / minutes,
            "s3_puts_by_kind": {name: count / minutes for name, count in counts.items() if name.startswith("s3 PUT")},
            "dynamodb_writes": writes / minutes,
            "dynamodb_reads": reads / minutes,
            "status_requests": polls / minutes,
            "start_requests": 1 / minutes,
            "start_answer_s": start_s,
            "status_answer_s": statistics.median(status_s),
            "cpu_s": cpu / minutes,
            "generate_wall_s": 60 / audio_per_wall,
            # Billed time on the function's one vCPU: no less than its CPU, nor than its wall time here.
            "generate_billed_s": max(cpu / minutes, 60 / audio_per_wall),
            "bytes_stored": sum(objects.values()) / minutes,
            "player_bytes": sum(played.values()) / minutes,
            "player_requests": (len(played) + reloads) / minutes,
            "playlists": playlists,
            "kept_days": MEDIA_KEPT_DAYS,
            "characters": len(spoken) / minutes,
        },
    }


def measure_engine_costs(
    stack: LocalStack, plan: Plan, engine: str, audio_per_wall: float, poll_waits_s: tuple[float, float]
) -> dict:
    """The counted session of the long text and of the first-segment text (about a minute), each with
    its price for 1,000 minutes (bench/costs.py), on either architecture, beside hosted voices'."""
    measured = {}
    for label, name in (("long", plan.long_text), ("short", plan.first_segment_text)):
        spoken = f"{text(name)} ({label}, {time.time():.3f})"
        counted = measure_costs(stack, spoken, engine, audio_per_wall, poll_waits_s)
        per_minute = counted["per_minute"]
        counted["dollars_per_1000_minutes"] = {arch: cost_of(per_minute, arch) for arch in ("x86_64", "arm64")}
        counted["hosted_per_1000_minutes"] = hosted_costs(per_minute["characters"])
        counted["text"] = name
        measured[label] = counted
    return measured
