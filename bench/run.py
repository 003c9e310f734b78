"""`make bench`: what users feel, measured against the local stack (espeak-ng, texts spoken verbatim).

Writes bench/results/latest.json and bench/results/latest.png and prints a table. `--smoke` is the
ten-second version CI runs so that this script cannot rot; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import m3u8
import psutil
import requests

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TEXTS = BENCH / "texts"


@dataclass(frozen=True)
class Plan:
    start_requests: int
    first_segment_sessions: int
    long_text: str
    repeats: int
    concurrent_sessions: int


FULL = Plan(
    start_requests=50, first_segment_sessions=12, long_text="five_minutes.txt", repeats=3, concurrent_sessions=8
)
SMOKE = Plan(
    start_requests=3, first_segment_sessions=2, long_text="three_paragraphs.txt", repeats=1, concurrent_sessions=2
)

# The goals of docs/architecture.md (Performance goals): (figure, goal, True when lower is better)
TARGETS = {
    "start_answer_p50_ms": (30, True),
    "first_segment_p50_ms": (400, True),
    "audio_seconds_per_wall_second": (30, False),
    "memory_per_extra_session_mb": (30, True),
    "wall_time_vs_plain_cli": (1.3, True),
}


def text(name: str) -> str:
    return (TEXTS / name).read_text()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


class LocalStack:
    """`python -m devstack` on a free port, with its own moto, as `make run` starts it."""

    def __init__(self, concurrency: int):
        self.log = tempfile.NamedTemporaryFile(prefix="bench-stack-", suffix=".log", delete=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPENAI_", "LLM_", "TTS_"))}
        env.update(
            PORT="0",
            PYTHONPATH=f"{REPO / 'layers' / 'core'}:{REPO}",
            LOCAL_GENERATE_CONCURRENCY=str(concurrency),
            # One client sends every request here: no per-client limit applies.
            LOCAL_RATE_LIMIT_PER_MINUTE="0",
            LOCAL_STATUS_RATE_LIMIT_PER_MINUTE="0",
            LOCAL_SESSIONS_PER_CLIENT="0",
            MAX_TEXT_CHARS="8000",
            MAX_BODY_BYTES="65536",
            LOG_LEVEL="WARNING",
            POWERTOOLS_LOG_LEVEL="WARNING",
            POWERTOOLS_METRICS_DISABLED="true",
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack"], env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO
        )
        deadline = time.monotonic() + 60
        while True:
            found = re.search(r"ready at (http://\S+)", Path(self.log.name).read_text())
            if found:
                self.url = found.group(1).rstrip("/")
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local stack did not start:\n{Path(self.log.name).read_text()}")
            time.sleep(0.05)
        self.http = requests.Session()

    def memory_mb(self) -> float:
        """Memory of the whole process tree (the stack, ffmpeg, espeak-ng) as PSS: each shared page
        is split between the processes that map it, so the sum is what the tree really uses (RSS
        would count ffmpeg's shared libraries once per ffmpeg)."""
        try:
            root = psutil.Process(self.process.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0
        for process in processes:
            try:
                total += process.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return total / 1e6

    def start(self, spoken: str) -> tuple[dict, float]:
        began = time.perf_counter()
        answer = self.http.post(f"{self.url}/audiostream/start/", json={"text": spoken}, timeout=30)
        elapsed = time.perf_counter() - began
        answer.raise_for_status()
        return answer.json(), elapsed

    def status(self, started: dict) -> dict:
        return self.http.get(self.url + started["status_url"], timeout=30).json()

    def segments(self, started: dict) -> list:
        return m3u8.loads(self.http.get(self.url + started["playlist"], timeout=30).text).segments

    def wait_until_ended(self, started: dict, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(started)
            if status["state"] in ("SUCCESS", "FAILURE") or time.monotonic() > deadline:
                return status
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        os.unlink(self.log.name)


def first_segment_after_start(stack: LocalStack, spoken: str) -> tuple[dict, float]:
    began = time.perf_counter()
    started, _ = stack.start(spoken)
    while not stack.segments(started):
        if time.perf_counter() - began > 60:
            raise RuntimeError("no segment within 60 s")
        time.sleep(0.005)
    return started, time.perf_counter() - began


def measure_start_answer(stack: LocalStack, plan: Plan) -> dict:
    """Start answers one at a time (0.5 s apart, so the sessions they start do not overlap), and back
    to back (each answer then competes for the two cores with the sessions the previous ones began)."""
    figures = {}
    for label, gap in (("apart", 0.5), ("back_to_back", 0.0)):
        times, sessions = [], []
        for _ in range(plan.start_requests):
            started, elapsed = stack.start("Hello there.")
            times.append(elapsed * 1000)
            sessions.append(started)
            time.sleep(gap)
        for started in sessions:
            stack.wait_until_ended(started)
        figures[label] = {"n": len(times), "p50_ms": statistics.median(times), "p95_ms": percentile(times, 0.95)}
    return {**figures["apart"], "back_to_back": figures["back_to_back"]}


def measure_first_segment(stack: LocalStack, plan: Plan) -> dict:
    times = []
    for _ in range(plan.first_segment_sessions):
        started, elapsed = first_segment_after_start(stack, text("three_paragraphs.txt"))
        times.append(elapsed * 1000)
        stack.wait_until_ended(started)
    return {"n": len(times), "p50_ms": statistics.median(times), "p95_ms": percentile(times, 0.95)}


def one_long_session(stack: LocalStack, spoken: str) -> dict:
    """A whole session: its wall time, its audio, and when each segment was first listed."""
    began = time.perf_counter()
    started, _ = stack.start(spoken)
    listed: dict[str, float] = {}
    durations: dict[str, float] = {}
    while True:
        now = time.perf_counter() - began
        playlist = m3u8.loads(stack.http.get(stack.url + started["playlist"], timeout=30).text)
        for segment in playlist.segments:
            listed.setdefault(segment.uri, now)
            durations[segment.uri] = segment.duration
        if playlist.is_endlist:
            break
        time.sleep(0.02)
    status = stack.wait_until_ended(started)
    wall = time.perf_counter() - began
    order = sorted(listed)
    return {
        "state": status["state"],
        "wall_s": wall,
        "audio_s": status["duration"],
        "listed_at_s": [listed[name] for name in order],
        "durations_s": [durations[name] for name in order],
    }


def plain_cli_seconds(spoken: str) -> float:
    """The limit of the tools: one espeak-ng piped into one ffmpeg writing the same HLS, no storage."""
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        espeak = subprocess.Popen(["espeak-ng", "-v", "en", "--stdout"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        ffmpeg = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "wav", "-i", "pipe:0",
             "-c:a", "aac", "-b:a", "64k", "-ar", "44100", "-f", "hls", "-hls_time", "2",
             "-hls_segment_type", "fmp4", "-hls_playlist_type", "event", "-hls_list_size", "0",
             "-hls_segment_filename", f"{folder}/audio_%03d.m4s", f"{folder}/audio.m3u8"],
            stdin=espeak.stdout,
        )  # fmt: skip
        espeak.stdout.close()
        espeak.communicate(spoken.encode())
        ffmpeg.wait()
        return time.perf_counter() - began


def measure_throughput_and_limit(stack: LocalStack, plan: Plan) -> tuple[dict, dict, dict]:
    spoken = text(plan.long_text)
    ours = [one_long_session(stack, spoken) for _ in range(plan.repeats)]
    plain = [plain_cli_seconds(spoken) for _ in range(plan.repeats)]
    assert all(run["state"] == "SUCCESS" for run in ours), [run["state"] for run in ours]
    wall = statistics.median(run["wall_s"] for run in ours)
    audio = statistics.median(run["audio_s"] for run in ours)
    throughput = {"text": plan.long_text, "audio_s": audio, "wall_s": wall, "audio_per_wall": audio / wall}
    limit = {"plain_cli_wall_s": statistics.median(plain), "ours_wall_s": wall}
    limit["ratio"] = wall / limit["plain_cli_wall_s"]
    timeline = min(ours, key=lambda run: abs(run["wall_s"] - wall))
    return throughput, limit, timeline


class PeakMemory:
    def __init__(self, stack: LocalStack):
        self.stack, self.peak, self._stop = stack, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.stack.memory_mb())
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def measure_memory_and_concurrency(stack: LocalStack, plan: Plan) -> tuple[dict, dict]:
    spoken = text(plan.long_text)
    time.sleep(1)
    at_rest = stack.memory_mb()
    with PeakMemory(stack) as one:
        stack.wait_until_ended(stack.start(spoken)[0])
    first_segments, states = [], []
    with PeakMemory(stack) as many:
        results = [None] * plan.concurrent_sessions

        def session(index: int) -> None:
            started, elapsed = first_segment_after_start(stack, spoken)
            results[index] = (started, elapsed)

        threads = [threading.Thread(target=session, args=(i,)) for i in range(plan.concurrent_sessions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for started, elapsed in results:
            first_segments.append(elapsed * 1000)
            states.append(stack.wait_until_ended(started)["state"])
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


def draw_timeline(timeline: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    listed = timeline["listed_at_s"]
    needed, elapsed = [], listed[0]  # a listener who starts when the first segment is listed
    for duration in timeline["durations_s"]:
        needed.append(elapsed)
        elapsed += duration
    numbers = list(range(len(listed)))
    figure, axes = plt.subplots(figsize=(9, 5), dpi=110)
    axes.plot(numbers, needed, label="needed by a listener who starts at once", color="#b3261e", linewidth=2)
    axes.plot(numbers, listed, label="listed in the playlist (available)", color="#2454c7", linewidth=2)
    axes.fill_between(numbers, listed, needed, color="#2454c7", alpha=0.08)
    axes.set_xlabel("segment (2 s of audio each)")
    axes.set_ylabel("seconds after the start request")
    axes.set_title(
        f"One session, {timeline['audio_s']:.0f} s of speech: made in {timeline['wall_s']:.1f} s; "
        f"the stream stays ahead of the listener"
    )
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def verdicts(results: dict) -> dict:
    figures = {
        "start_answer_p50_ms": results["start_answer"]["p50_ms"],
        "first_segment_p50_ms": results["first_segment"]["p50_ms"],
        "audio_seconds_per_wall_second": results["throughput"]["audio_per_wall"],
        "memory_per_extra_session_mb": results["memory"]["per_extra_session_mb"],
        "wall_time_vs_plain_cli": results["limit"]["ratio"],
    }
    return {
        name: {"value": value, "goal": TARGETS[name][0], "met": value < goal if lower else value > goal}
        for name, value in figures.items()
        for goal, lower in [TARGETS[name]]
    }


def table(results: dict) -> str:
    start, apart = results["start_answer"], results["start_answer"]["back_to_back"]
    first, throughput, limit = results["first_segment"], results["throughput"], results["limit"]
    memory, concurrent = results["memory"], results["concurrency"]
    many = concurrent["sessions"]
    rows = [
        ("start answer p50 / p95", f"{start['p50_ms']:.1f} / {start['p95_ms']:.1f} ms", "p50 < 30 ms"),
        ("  ...back to back", f"{apart['p50_ms']:.1f} / {apart['p95_ms']:.1f} ms", ""),
        ("first segment listed p50 / p95", f"{first['p50_ms']:.0f} / {first['p95_ms']:.0f} ms", "p50 < 400 ms"),
        (
            "audio s per wall s",
            f"{throughput['audio_per_wall']:.1f} ({throughput['audio_s']:.0f} s in {throughput['wall_s']:.2f} s)",
            "> 30",
        ),
        (
            "plain espeak-ng | ffmpeg",
            f"{limit['plain_cli_wall_s']:.2f} s; ours / plain = {limit['ratio']:.2f}x",
            "< 1.3x",
        ),
        (
            f"memory (PSS) at rest / 1 / {many} sessions",
            f"{memory['at_rest_mb']:.0f} / {memory['one_session_peak_mb']:.0f} / "
            f"{memory[f'{many}_sessions_peak_mb']:.0f} MB",
            "",
        ),
        ("memory per extra session", f"{memory['per_extra_session_mb']:.1f} MB", "< 30 MB"),
        (
            f"{many} sessions at once",
            f"{concurrent['succeeded']} succeeded; first segment p50 / p95 "
            f"{concurrent['first_segment_p50_ms']:.0f} / {concurrent['first_segment_p95_ms']:.0f} ms",
            "all succeed",
        ),
    ]
    name_width = max(len(row[0]) for row in rows)
    value_width = max(len(row[1]) for row in rows)
    lines = [f"{'figure'.ljust(name_width)}  {'measured'.ljust(value_width)}  goal"]
    lines += [f"{name.ljust(name_width)}  {value.ljust(value_width)}  {goal}" for name, value, goal in rows]
    return "\n".join(lines)


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "cpu": platform.processor() or platform.machine(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "ffmpeg": subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0],
        "espeak_ng": subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="the ten-second version (CI)")
    parser.add_argument("--output", type=Path, default=BENCH / "results")
    arguments = parser.parse_args()
    plan = SMOKE if arguments.smoke else FULL
    arguments.output.mkdir(parents=True, exist_ok=True)

    began = time.monotonic()
    stack = LocalStack(concurrency=plan.concurrent_sessions)
    try:
        print("start answer...", flush=True)
        start_answer = measure_start_answer(stack, plan)
        print("first segment...", flush=True)
        first_segment = measure_first_segment(stack, plan)
        print(f"throughput and the plain-CLI limit ({plan.long_text})...", flush=True)
        throughput, limit, timeline = measure_throughput_and_limit(stack, plan)
        print(f"memory and {plan.concurrent_sessions} sessions at once...", flush=True)
        memory, concurrency = measure_memory_and_concurrency(stack, plan)
    finally:
        stack.stop()

    results = {
        "mode": "smoke" if arguments.smoke else "full",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "start_answer": start_answer,
        "first_segment": first_segment,
        "throughput": throughput,
        "limit": limit,
        "memory": memory,
        "concurrency": concurrency,
        "timeline": timeline,
        "bench_seconds": round(time.monotonic() - began, 1),
    }
    results["targets"] = verdicts(results)
    (arguments.output / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    draw_timeline(timeline, arguments.output / "latest.png")
    print()
    print(table(results))
    print(f"\n{results['bench_seconds']} s; written to {arguments.output}/latest.json and latest.png")


if __name__ == "__main__":
    main()
