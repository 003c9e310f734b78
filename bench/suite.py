"""The whole of `make bench` (see run.py): each measurement in its order, each engine in turn, then the
report: bench/results/latest.json, latest.png and the tables printed."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from goals import GOALS, verdicts
from machine import machine
from measurements.cache_hit import measure_cache_hit
from measurements.click_to_sound import measure_browser
from measurements.engine_alone import ALONE, hibari_alone
from measurements.first_segment import measure_first_segment
from measurements.memory import measure_memory_and_concurrency
from measurements.per_minute import measure_engine_costs
from measurements.raw_limit import measure_raw_limit
from measurements.scaling import measure_scaling
from measurements.start_answer import measure_start_answer
from measurements.throughput import measure_throughput_and_limit
from plan import BENCH, ENGINES, FULL, SMOKE
from report.plot import draw_timelines
from report.tables import breakdown_table, cost_table, scaling_table, summary, table
from stack import LocalStack


def main(description: str) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="the short version (CI)")
    parser.add_argument("--output", type=Path, default=BENCH / "results")
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help=f"the engines to measure, comma-separated (default {','.join(ENGINES)})",
    )
    # The child process of measurements/engine_alone.py's hibari_alone_seconds.
    parser.add_argument("--hibari-alone", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.hibari_alone:
        hibari_alone()
        return
    engines = tuple(name.strip() for name in arguments.engines.split(",") if name.strip())
    unknown = [name for name in engines if name not in GOALS]
    if unknown or not engines:
        parser.error(f"--engines: {', '.join(unknown) or 'none given'}; this bench knows {', '.join(ENGINES)}")
    plan = SMOKE if arguments.smoke else FULL
    arguments.output.mkdir(parents=True, exist_ok=True)

    began = time.monotonic()
    results: dict = {
        "mode": "smoke" if arguments.smoke else "full",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "engines": list(engines),
        **{engine: {} for engine in engines},
    }
    stack = LocalStack(concurrency=plan.concurrent_sessions)
    without_captions = LocalStack(concurrency=1, settings={"CAPTIONS": "false"})
    try:
        # Figure by figure, each engine in turn: the two engines' figures are measured close in time.
        for engine in engines:
            print(f"start answer ({engine})...", flush=True)
            results[engine]["start_answer"] = measure_start_answer(stack, plan, engine)
        print("the raw limit of the first sound (espeak-ng | ffmpeg)...", flush=True)
        results["raw_limit"] = measure_raw_limit(plan)
        for engine in engines:
            print(f"first segment ({engine})...", flush=True)
            first = measure_first_segment(stack, without_captions, plan, engine)
            first["vs_raw_limit"] = first["p50_ms"] / results["raw_limit"]["p50_ms"]
            results[engine]["first_segment"] = first
        for engine in engines:
            print(f"start to playable from the content cache ({engine})...", flush=True)
            results[engine]["cache_hit"] = measure_cache_hit(stack, plan, engine)
        for engine in engines:
            print(f"throughput and {ALONE[engine]} alone ({plan.long_text}, {engine})...", flush=True)
            section = results[engine]
            section["throughput"], section["limit"], section["timeline"] = measure_throughput_and_limit(
                stack, without_captions, plan, engine
            )
        for engine in engines:
            print(f"click to sound in headless chromium, {plan.browser_clicks} clicks ({engine})...", flush=True)
            results[engine]["browser"] = measure_browser(stack, plan, engine, results["raw_limit"]["p50_ms"])
        for engine in engines:
            print(f"requests, CPU and bytes per minute of audio, and their price ({engine})...", flush=True)
            per_wall = results[engine]["throughput"]["audio_per_wall"]
            # Polled as the page polled in chromium: its median waits, in seconds.
            waits = results[engine]["browser"]["status_poll_wait"]
            poll_waits_s = (waits["until_a_segment"]["p50_ms"] / 1000, waits["after_a_segment"]["p50_ms"] / 1000)
            results[engine]["costs"] = measure_engine_costs(stack, plan, engine, per_wall, poll_waits_s)
        for engine in engines:
            print(f"how time and memory grow with the text and with sessions at once ({engine})...", flush=True)
            results[engine]["scaling"] = measure_scaling(stack, plan, engine)
        for engine in engines:
            print(f"memory and {plan.concurrent_sessions} sessions at once ({engine})...", flush=True)
            section = results[engine]
            section["memory"], section["concurrency"] = measure_memory_and_concurrency(stack, plan, engine)
    finally:
        stack.stop()
        without_captions.stop()

    for engine in engines:
        results[engine]["targets"] = verdicts(results[engine], engine)
    results["bench_seconds"] = round(time.monotonic() - began, 1)
    results["load_average_at_end"] = list(os.getloadavg())
    (arguments.output / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    draw_timelines(
        {engine: results[engine]["timeline"] for engine in engines},
        arguments.output / "latest.png",
        {engine: results[engine]["browser"]["steps_p50_ms"] for engine in engines},
        results["raw_limit"]["p50_ms"],
    )
    print()
    print(table(results))
    for title, render in (
        ("Click to first sound, step by step (medians)", breakdown_table),
        ("What 1,000 minutes of audio cost in AWS (bench/costs.py)", cost_table),
        ("How it grows with the work", scaling_table),
    ):
        print(f"\n{title}\n{render(results)}")
    print()
    print(summary(results))
    print(f"\n{results['bench_seconds']} s; written to {arguments.output}/latest.json and latest.png")
