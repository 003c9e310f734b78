"""`make bench`: what users feel, measured against the local stack, per engine (texts spoken verbatim).

Every figure is measured for each engine in the same run, the engine named in each start request:
espeak-ng, and hibari (the neural English voice the local stack now picks for English by default).
Each engine's wall time is compared with the engine run alone on the same text, in the same run, the
runs alternated with ours so that a busy neighbour weighs on both alike:

- espeak: one espeak-ng piped into one ffmpeg writing the same HLS, no storage (the plain CLI).
- hibari: a fresh Python process loads hibari's packaged model ("heart", one onnxruntime thread, as the
  engine loads it) and warms it with one sentence, as the engine does before its first session; then
  the clock starts, and `Hibari.stream` makes the whole text's PCM sentence by sentence, each sentence
  piped as 16-bit PCM (unleveled, untrimmed) into the same ffmpeg HLS command as soon as it is made,
  until ffmpeg has written its last segment. The model load is not timed: the stack loads it once per
  process, before any session.

Both pipes hold 1 MiB, as the stack's encoder input does (audiostream.encoder): through a default
64 KiB pipe the engine waits for ffmpeg at every sentence, and that limit would be slower than the
stack itself (hibari | ffmpeg: 4.3 s against 2.8 s for the five-minute text).

The stack runs as deployed, captions on; the first segment and the long text's wall time are also
measured on a second stack with CAPTIONS=false, a session on each in turn: what captions cost.

Writes bench/results/latest.json (a section per engine) and bench/results/latest.png (one timeline
per engine) and prints a table with a row per engine. `--smoke` is the short version CI runs so that
this script cannot rot; its figures mean nothing.
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
ENGINES = ("espeak", "hibari")
INPUT_PIPE_BYTES = 1 << 20  # as audiostream.encoder widens ffmpeg's input


@dataclass(frozen=True)
class Plan:
    start_requests: int
    first_segment_sessions: int
    first_segment_text: str
    long_text: str
    repeats: int
    concurrent_sessions: int
    rest_seconds: float  # before memory at rest is read
    cache_hits: int


FULL = Plan(
    start_requests=50,
    first_segment_sessions=20,
    first_segment_text="three_paragraphs.txt",
    long_text="five_minutes.txt",
    repeats=3,
    concurrent_sessions=8,
    rest_seconds=1.0,
    cache_hits=20,
)
# Every figure for both engines, on one paragraph (17 s of speech): the stack's start and the fresh
# process hibari alone needs (each loading the model) are most of its time.
SMOKE = Plan(
    start_requests=2,
    first_segment_sessions=2,
    first_segment_text="one_paragraph.txt",
    long_text="one_paragraph.txt",
    repeats=1,
    concurrent_sessions=2,
    rest_seconds=0.2,
    cache_hits=2,
)

# The goals of docs/architecture.md (Performance goals): (figure, goal, True when lower is better).
# espeak-ng's; "plain CLI" is the engine run alone on the same text (see the module's docstring).
TARGETS = {
    "start_answer_p50_ms": (30, True),
    "first_segment_p50_ms": (400, True),
    "audio_seconds_per_wall_second": (30, False),
    "memory_per_extra_session_mb": (30, True),
    "wall_time_vs_plain_cli": (1.3, True),
    "first_segment_with_vs_without_captions": (1.1, True),
}
# hibari's (the neural voice's issue); the start answer's goal is the engine-neutral one.
HIBARI_TARGETS = {
    "start_answer_p50_ms": (30, True),
    "first_segment_p50_ms": (400, True),
    "audio_seconds_per_wall_second": (20, False),
    "memory_per_extra_session_mb": (150, True),
    "wall_time_vs_plain_cli": (1.3, True),
    "first_segment_with_vs_without_captions": (1.1, True),
}
GOALS = {"espeak": TARGETS, "hibari": HIBARI_TARGETS}
ALONE = {"espeak": "espeak-ng | ffmpeg", "hibari": "hibari (Hibari.stream) | ffmpeg"}


def text(name: str) -> str:
    return (TEXTS / name).read_text()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def spread(times: list[float]) -> dict:
    return {"n": len(times), "p50_ms": statistics.median(times), "p95_ms": percentile(times, 0.95)}


class LocalStack:
    """`python -m devstack` on a free port, with its own moto, as `make run` starts it (its own engine
    defaults: hibari, then espeak; every request here names its engine all the same)."""

    def __init__(self, concurrency: int, settings: dict[str, str] | None = None):
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
        env.update(settings or {})
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

    def start(self, spoken: str, engine: str, cache: bool = False) -> tuple[dict, float]:
        """A start; generated anew (``"cache": false``) unless ``cache``: repeated texts are the
        bench's way of timing, and a content-cache hit would time nothing but the cache."""
        began = time.perf_counter()
        body = {"text": spoken, "engine": engine, "cache": cache}
        answer = self.http.post(f"{self.url}/audiostream/start/", json=body, timeout=30)
        elapsed = time.perf_counter() - began
        if not answer.ok:
            raise RuntimeError(f"start with engine {engine!r} answered {answer.status_code}: {answer.text[:500]}")
        return answer.json(), elapsed

    def status(self, started: dict) -> dict:
        return self.http.get(self.url + started["status_url"], timeout=30).json()

    def segments(self, started: dict) -> list:
        return m3u8.loads(self.http.get(self.url + started["playlist"], timeout=30).text).segments

    def wait_until_ended(self, started: dict, engine: str, timeout: float = 300) -> dict:
        """The session's last status, once it has ended; raises unless ``engine`` spoke it."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(started)
            if status["state"] in ("SUCCESS", "FAILURE") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if status.get("engine") != engine:
            raise RuntimeError(f"asked for engine {engine!r}, the session was spoken by {status.get('engine')!r}")
        return status

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        os.unlink(self.log.name)


def first_segment_after_start(stack: LocalStack, spoken: str, engine: str, cache: bool = False) -> tuple[dict, float]:
    began = time.perf_counter()
    started, _ = stack.start(spoken, engine, cache)
    while not stack.segments(started):
        if time.perf_counter() - began > 60:
            raise RuntimeError("no segment within 60 s")
        time.sleep(0.005)
    return started, time.perf_counter() - began


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
    return {**figures["apart"], "back_to_back": figures["back_to_back"]}


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


def one_long_session(stack: LocalStack, spoken: str, engine: str) -> dict:
    """A whole session: its wall time, its audio, and when each segment was first listed."""
    began = time.perf_counter()
    started, _ = stack.start(spoken, engine)
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
    status = stack.wait_until_ended(started, engine)
    wall = time.perf_counter() - began
    order = sorted(listed)
    return {
        "state": status["state"],
        "wall_s": wall,
        "audio_s": status["duration"],
        "listed_at_s": [listed[name] for name in order],
        "durations_s": [durations[name] for name in order],
    }


def ffmpeg_hls(input_options: list[str], folder: str) -> list[str]:
    """The stack's own encoder command (audiostream.encoder: AAC 64k with its coder, 44.1 kHz, 2 s fMP4
    segments), reading ``input_options`` from stdin instead of raw PCM, so that the limit and the
    stack encode alike."""
    sys.path.insert(0, str(REPO / "layers" / "core"))
    from audiostream.encoder import HlsEncoder

    command = HlsEncoder(Path(folder), 22050).command
    start = command.index("-f")  # the raw-PCM input options, up to and including "-i pipe:0"
    end = command.index("pipe:0") + 1
    return [*command[:start], *input_options, "-i", "pipe:0", *command[end:]]


def espeak_alone_seconds(spoken: str) -> float:
    """The limit of the tools: one espeak-ng piped into one ffmpeg writing the same HLS, no storage."""
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        espeak = subprocess.Popen(
            ["espeak-ng", "-v", "en", "--stdout"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, pipesize=INPUT_PIPE_BYTES,
        )  # fmt: skip
        ffmpeg = subprocess.Popen(ffmpeg_hls(["-f", "wav"], folder), stdin=espeak.stdout)
        espeak.stdout.close()
        espeak.communicate(spoken.encode())
        if ffmpeg.wait() != 0 or espeak.returncode != 0:
            raise RuntimeError(f"espeak-ng | ffmpeg failed ({espeak.returncode}, {ffmpeg.returncode})")
        return time.perf_counter() - began


def hibari_alone_seconds(spoken: str) -> float:
    """The limit of the model: hibari alone in a fresh process (see hibari_alone), timed from after
    its model is loaded and warmed."""
    child = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--hibari-alone"],
        input=spoken, capture_output=True, text=True, timeout=600, cwd=REPO,
    )  # fmt: skip
    if child.returncode != 0:
        raise RuntimeError(f"hibari alone failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.splitlines()[-1])["wall_s"]


def hibari_alone() -> None:
    """`run.py --hibari-alone`, in a fresh process: load the model as the engine does, warm it, then
    time `Hibari.stream` over the text on stdin, each sentence's PCM piped into ffmpeg as it is made."""
    import numpy as np
    from hibari import Hibari
    from hibari.tts import ASSETS

    spoken = sys.stdin.read()
    model = Hibari(voice="heart", model=os.path.join(ASSETS, "hibari.onnx"), threads=1)
    model("Warm up, Kalamazoo.")
    samples = 0
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        pcm = ["-f", "s16le", "-ar", str(Hibari.sample_rate), "-ac", "1"]
        ffmpeg = subprocess.Popen(ffmpeg_hls(pcm, folder), stdin=subprocess.PIPE, pipesize=INPUT_PIPE_BYTES)
        for wave in model.stream(spoken):
            ffmpeg.stdin.write((np.clip(wave, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())
            samples += len(wave)
        ffmpeg.stdin.close()
        if ffmpeg.wait() != 0:
            raise RuntimeError(f"ffmpeg failed ({ffmpeg.returncode})")
        wall = time.perf_counter() - began
    print(json.dumps({"wall_s": wall, "audio_s": samples / Hibari.sample_rate}))


ALONE_SECONDS = {"espeak": espeak_alone_seconds, "hibari": hibari_alone_seconds}


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


def draw_timelines(timelines: dict[str, dict], path: Path) -> None:
    """One panel per engine: when each segment was listed, and when a listener would need it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(len(timelines), 1, figsize=(9, 4.2 * len(timelines)), dpi=110, squeeze=False)
    for axes, (engine, timeline) in zip(panels[:, 0], timelines.items(), strict=True):
        listed = timeline["listed_at_s"]
        needed, elapsed = [], listed[0]  # a listener who starts when the first segment is listed
        for duration in timeline["durations_s"]:
            needed.append(elapsed)
            elapsed += duration
        numbers = [at - listed[0] for at in needed]  # where each segment starts in the stream
        axes.plot(numbers, needed, label="needed by a listener who starts at once", color="#b3261e", linewidth=2)
        axes.plot(numbers, listed, label="listed in the playlist (available)", color="#2454c7", linewidth=2)
        axes.fill_between(numbers, listed, needed, color="#2454c7", alpha=0.08)
        axes.set_xlabel("seconds into the stream (each segment's start; 2 s segments at first, then 4 s)")
        axes.set_ylabel("seconds after the start request")
        ahead = all(at <= need + 1e-9 for at, need in zip(listed, needed, strict=True))
        axes.set_title(
            f"{engine}: one session, {timeline['audio_s']:.0f} s of speech, made in {timeline['wall_s']:.1f} s; "
            + ("the stream stays ahead of the listener" if ahead else "the listener waits at times")
        )
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def verdicts(section: dict, engine: str) -> dict:
    figures = {
        "start_answer_p50_ms": section["start_answer"]["p50_ms"],
        "first_segment_p50_ms": section["first_segment"]["p50_ms"],
        "audio_seconds_per_wall_second": section["throughput"]["audio_per_wall"],
        "memory_per_extra_session_mb": section["memory"]["per_extra_session_mb"],
        "wall_time_vs_plain_cli": section["limit"]["ratio"],
        "first_segment_with_vs_without_captions": section["first_segment"]["captions_ratio"],
    }
    goals = GOALS[engine]
    return {
        name: {"value": value, "goal": goals[name][0], "met": value < goal if lower else value > goal}
        for name, value in figures.items()
        for goal, lower in [goals[name]]
    }


def goal(engine: str, name: str, unit: str = "", prefix: str = "") -> str:
    value, lower = GOALS[engine][name]
    return f"{prefix}{'<' if lower else '>'} {value:g}{unit}"


def table(results: dict) -> str:
    """A row per figure and engine; the verdict against that engine's goal where it has one."""
    rows = []
    for number, engine in enumerate(results["engines"]):
        section = results[engine]
        start, apart = section["start_answer"], section["start_answer"]["back_to_back"]
        first, throughput, limit = section["first_segment"], section["throughput"], section["limit"]
        memory, concurrent, met = section["memory"], section["concurrency"], section["targets"]
        many = concurrent["sessions"]
        figures = [
            (
                "start answer p50 / p95",
                f"{start['p50_ms']:.1f} / {start['p95_ms']:.1f} ms",
                goal(engine, "start_answer_p50_ms", " ms", "p50 "),
                met["start_answer_p50_ms"]["met"],
            ),
            ("  ...back to back", f"{apart['p50_ms']:.1f} / {apart['p95_ms']:.1f} ms", "", None),
            (
                "first segment listed p50 / p95",
                f"{first['p50_ms']:.0f} / {first['p95_ms']:.0f} ms",
                goal(engine, "first_segment_p50_ms", " ms", "p50 "),
                met["first_segment_p50_ms"]["met"],
            ),
            (
                "  ...without captions (in turn)",
                f"{first['without_captions']['p50_ms']:.0f} / {first['without_captions']['p95_ms']:.0f} ms; "
                f"with / without = {first['captions_ratio']:.2f}x",
                goal(engine, "first_segment_with_vs_without_captions", "x"),
                met["first_segment_with_vs_without_captions"]["met"],
            ),
            (
                "start to playable, content-cache hit p50 / p95",
                f"{section['cache_hit']['p50_ms']:.1f} / {section['cache_hit']['p95_ms']:.1f} ms "
                f"({first['p50_ms'] / section['cache_hit']['p50_ms']:.0f}x faster than a miss)",
                "",
                None,
            ),
            (
                "audio s per wall s",
                f"{throughput['audio_per_wall']:.1f} ({throughput['audio_s']:.0f} s in {throughput['wall_s']:.2f} s)",
                goal(engine, "audio_seconds_per_wall_second"),
                met["audio_seconds_per_wall_second"]["met"],
            ),
            (
                "engine alone (the plain pipeline)",
                f"{limit['plain']}: {limit['plain_wall_s']:.2f} s; ours / alone = {limit['ratio']:.2f}x",
                goal(engine, "wall_time_vs_plain_cli", "x"),
                met["wall_time_vs_plain_cli"]["met"],
            ),
            (
                "  ...ours without captions (in turn)",
                f"{limit['without_captions_wall_s']:.2f} s; without / alone = {limit['without_captions_ratio']:.2f}x",
                "",
                None,
            ),
            (
                f"memory (PSS) at rest / 1 / {many} sessions",
                f"{memory['at_rest_mb']:.0f} / {memory['one_session_peak_mb']:.0f} / "
                f"{memory[f'{many}_sessions_peak_mb']:.0f} MB",
                "",
                None,
            ),
            (
                "memory per extra session",
                f"{memory['per_extra_session_mb']:.1f} MB",
                goal(engine, "memory_per_extra_session_mb", " MB"),
                met["memory_per_extra_session_mb"]["met"],
            ),
            (
                f"{many} sessions at once",
                f"{concurrent['succeeded']} succeeded; first segment p50 / p95 "
                f"{concurrent['first_segment_p50_ms']:.0f} / {concurrent['first_segment_p95_ms']:.0f} ms",
                "all succeed",
                concurrent["succeeded"] == many,
            ),
        ]
        for index, (name, value, wanted, verdict) in enumerate(figures):
            rows.append((index, number, name, engine, value, wanted, {True: "met", False: "MISSED", None: ""}[verdict]))
    rows.sort(key=lambda row: row[:2])  # each figure, then each engine's row of it
    header = ("figure", "engine", "measured", "goal", "")
    cells = [header] + [(name if number == 0 else "", *rest) for _, number, name, *rest in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def summary(results: dict) -> str:
    lines = []
    for engine in results["engines"]:
        targets = results[engine]["targets"]
        missed = [name for name, verdict in targets.items() if not verdict["met"]]
        lines.append(
            f"{engine}: {len(targets) - len(missed)} of {len(targets)} goals met"
            + (f"; missed: {', '.join(missed)}" if missed else "")
        )
    return "\n".join(lines)


def machine() -> dict:
    import importlib.metadata

    try:
        hibari = importlib.metadata.version("hibari-tts")
    except importlib.metadata.PackageNotFoundError:
        hibari = None
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "cpu": platform.processor() or platform.machine(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "ffmpeg": subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0],
        "espeak_ng": subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip(),
        "hibari_tts": hibari,
        "load_average_at_start": list(os.getloadavg()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="the short version (CI)")
    parser.add_argument("--output", type=Path, default=BENCH / "results")
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help=f"the engines to measure, comma-separated (default {','.join(ENGINES)})",
    )
    parser.add_argument(
        "--hibari-alone", action="store_true", help=argparse.SUPPRESS
    )  # the child of hibari_alone_seconds
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
        for engine in engines:
            print(f"first segment ({engine})...", flush=True)
            results[engine]["first_segment"] = measure_first_segment(stack, without_captions, plan, engine)
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
    draw_timelines({engine: results[engine]["timeline"] for engine in engines}, arguments.output / "latest.png")
    print()
    print(table(results))
    print()
    print(summary(results))
    print(f"\n{results['bench_seconds']} s; written to {arguments.output}/latest.json and latest.png")


if __name__ == "__main__":
    main()
