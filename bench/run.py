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

Both pipes hold 1 MiB, as the stack's encoder input does (audiostream.media.encoder): through a default
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
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import m3u8
import psutil
import requests
from browser import OWNERS, STEPS, click_to_sound, launch, medians  # bench/, the script's own folder
from costs import cost_of, hosted_costs

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TEXTS = BENCH / "texts"
ENGINES = ("espeak", "hibari")
INPUT_PIPE_BYTES = 1 << 20  # as audiostream.media.encoder widens ffmpeg's input


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
    limit_runs: int
    browser_clicks: int
    scaling_chars: tuple[int, ...]
    scaling_sessions: tuple[int, ...]
    scaling_repeats: int


FULL = Plan(
    start_requests=50,
    first_segment_sessions=20,
    first_segment_text="three_paragraphs.txt",
    long_text="five_minutes.txt",
    repeats=3,
    concurrent_sessions=8,
    rest_seconds=1.0,
    cache_hits=20,
    limit_runs=20,
    browser_clicks=20,
    scaling_chars=(100, 1000, 5000),
    scaling_sessions=(1, 4, 8),
    scaling_repeats=3,
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
    limit_runs=2,
    browser_clicks=1,
    scaling_chars=(100, 1000),
    scaling_sessions=(1, 2),
    scaling_repeats=1,
)

# The goals of the README's Performance section: (figure, goal, True when lower is better, at most).
# Machines differ about 3x in speed from day to day, so where a limit is measured in the same run the
# goal is a ratio to it: a trivial GET of the same stack, and the raw limit of the first sound (one
# espeak-ng piped into one ffmpeg, see raw_first_segment_seconds). "plain CLI" is the engine run
# alone on the same text (see the module's docstring). espeak-ng's:
TARGETS = {
    "start_answer_vs_trivial_get": (4, True),
    "first_segment_vs_raw_limit": (1.2, True),
    "click_to_playing_minus_raw_limit_ms": (100, True),
    "audio_seconds_per_wall_second": (30, False),
    "memory_per_extra_session_mb": (30, True),
    "wall_time_vs_plain_cli": (1.3, True),
    "first_segment_with_vs_without_captions": (1.1, True),
    "s3_puts_by_generate_per_audio_minute": (20, True),
}
# hibari's (the neural voice's issue); the start answer's and the S3 goals are the engine-neutral ones.
HIBARI_TARGETS = {
    "start_answer_vs_trivial_get": (4, True),
    "first_segment_p50_ms": (400, True),
    "audio_seconds_per_wall_second": (20, False),
    "memory_per_extra_session_mb": (150, True),
    "wall_time_vs_plain_cli": (1.3, True),
    "first_segment_with_vs_without_captions": (1.1, True),
    "s3_puts_by_generate_per_audio_minute": (20, True),
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
        found = re.search(r"moto server at (http://\S+)", Path(self.log.name).read_text())
        self.storage_url = found.group(1) if found else None

    def stored_objects(self, session_id: str) -> dict[str, int]:
        """Name and size of every object the session stored."""
        import boto3

        s3 = boto3.client(
            "s3", endpoint_url=self.storage_url, region_name="us-east-1",
            aws_access_key_id="bench", aws_secret_access_key="bench",
        )  # fmt: skip
        listed = s3.list_objects_v2(Bucket="audiostream-media", Prefix=f"media/hls/{session_id}/")
        return {item["Key"].rsplit("/", 1)[-1]: item["Size"] for item in listed.get("Contents", [])}

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
    trivial = []
    for _ in range(plan.start_requests):
        began = time.perf_counter()
        stack.http.get(f"{stack.url}/audiostream/engines/", timeout=30).raise_for_status()
        trivial.append((time.perf_counter() - began) * 1000)
    answer = {**figures["apart"], "back_to_back": figures["back_to_back"], "trivial_get": spread(trivial)}
    answer["vs_trivial_get"] = answer["p50_ms"] / answer["trivial_get"]["p50_ms"]
    return answer


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
    """The stack's own encoder command (audiostream.media.encoder: AAC 64k with its coder, 44.1 kHz, 2 s fMP4
    segments), reading ``input_options`` from stdin instead of raw PCM, so that the limit and the
    stack encode alike."""
    sys.path.insert(0, str(REPO / "layers" / "core"))
    from audiostream.media.encoder import HlsEncoder

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


def raw_first_segment_seconds(spoken: str) -> float:
    """The raw limit of the first sound: espeak-ng piped into one ffmpeg that does not probe its input
    (``-probesize 32 -analyzeduration 0``), writing the stack's HLS fMP4, timed from espeak-ng's start
    until ffmpeg's own playlist lists its first segment. No HTTP, no storage, no session."""
    with tempfile.TemporaryDirectory() as folder:
        command = ffmpeg_hls(["-f", "wav"], folder)  # the stack's command: it does not probe
        playlist = Path(command[-1])
        began = time.perf_counter()
        espeak = subprocess.Popen(
            ["espeak-ng", "-v", "en", "--stdout"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, pipesize=INPUT_PIPE_BYTES,
        )  # fmt: skip
        ffmpeg = subprocess.Popen(command, stdin=espeak.stdout)
        espeak.stdout.close()
        espeak.stdin.write(spoken.encode())
        espeak.stdin.close()
        listed = None
        while listed is None:
            try:
                if "#EXTINF" in playlist.read_text():
                    listed = time.perf_counter() - began
            except FileNotFoundError:
                pass
            if listed is None:
                if ffmpeg.poll() is not None:
                    raise RuntimeError(f"espeak-ng | ffmpeg listed no segment (ffmpeg {ffmpeg.returncode})")
                time.sleep(0.001)
        ffmpeg.wait()
        espeak.wait()
        return listed


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


PAGE_POLL_SECONDS = (0.1, 1.0)  # web/app.js: until the status names a segment, then


def storage_counts(stack: LocalStack) -> dict:
    return stack.http.get(stack.storage_url + "/_requests", timeout=10).json()


def stack_cpu_seconds(stack: LocalStack) -> float:
    """CPU the stack's process used, with its finished children (each session's ffmpeg); not the
    storage server's (AWS's side of the bill, counted in requests)."""
    times = psutil.Process(stack.process.pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def measure_costs(stack: LocalStack, spoken: str, engine: str, audio_per_wall: float) -> dict:
    """One session as the page runs it (its status polled at the page's rate, no other request),
    counted: the storage requests, the stack's CPU, what is stored. Per minute of audio."""
    time.sleep(0.5)  # the previous session's last writes
    before, cpu_before = storage_counts(stack), stack_cpu_seconds(stack)
    started, start_s = stack.start(spoken, engine)
    polls, status_s = 0, []
    while True:
        began = time.perf_counter()
        status = stack.status(started)
        status_s.append(time.perf_counter() - began)
        polls += 1
        if status["state"] in ("SUCCESS", "FAILURE", "REVOKED"):
            break
        time.sleep(PAGE_POLL_SECONDS[status.get("segments", 0) > 0])
    if status["state"] != "SUCCESS" or status.get("engine") != engine:
        raise RuntimeError(f"the counted session ended {status['state']} ({status.get('engine')})")
    cpu = stack_cpu_seconds(stack) - cpu_before
    after = storage_counts(stack)
    counts = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    counts = {name: count for name, count in sorted(counts.items()) if count}
    objects = stack.stored_objects(started["session_id"])
    minutes = status["duration"] / 60
    played = {name: size for name, size in objects.items() if not name.endswith(".m4a")}  # the file is optional
    playlists = sum(1 for name in objects if name.endswith(".m3u8"))
    # A listener's player: every object once (CloudFront keeps them), and the two media playlists
    # again at each reload while the stream is live (about every target duration of generation).
    target = m3u8.loads(stack.http.get(stack.url + started["playlist"], timeout=30).text).target_duration
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
            "kept_days": 7,  # MediaExpirationDays' default: the lifecycle rule's
            "characters": len(spoken) / minutes,
        },
    }


def measure_raw_limit(plan: Plan) -> dict:
    """The raw limit of the first sound (raw_first_segment_seconds), on the first-segment text."""
    times = []
    for number in range(plan.limit_runs):
        times.append(raw_first_segment_seconds(f"{text(plan.first_segment_text)} ({number})") * 1000)
        time.sleep(0.2)
    return spread(times)


def measure_browser(stack: LocalStack, plan: Plan, engine: str, raw_limit_ms: float) -> dict:
    """Clicks on the demo page in headless chromium, each with words of its own: where the time to
    the first sound goes (bench/browser.py), step by step."""
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            page = chromium.new_context().new_page()
            page.goto(stack.url + "/")
            page.wait_for_function("document.getElementById('engine').options.length > 1")
            for number in range(plan.browser_clicks):
                spoken = f"{text(plan.first_segment_text)} ({engine} click {number}, {time.time():.3f})"
                runs.append(click_to_sound(page, stack.url, spoken, engine))
        finally:
            chromium.close()
    steps = medians(runs)
    playing = [run["playing"] for run in runs]
    return {
        "clicks": len(runs),
        "steps_p50_ms": steps,
        "playing": spread(playing),
        "minus_raw_limit_ms": statistics.median(playing) - raw_limit_ms,
        "runs": runs,
    }


def sentences_up_to(chars: int) -> str:
    """The five-minute text's first sentences, about ``chars`` characters (whole sentences)."""
    whole = text("five_minutes.txt")
    cut = whole.rfind(". ", 0, chars + 1)
    return whole[: cut + 1] if cut > 0 else whole[:chars]


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


def measure_engine_costs(stack: LocalStack, plan: Plan, engine: str, audio_per_wall: float) -> dict:
    """The counted session of the long text and of the first-segment text (about a minute), each with
    its price for 1,000 minutes (bench/costs.py), on either architecture, beside hosted voices'."""
    measured = {}
    for label, name in (("long", plan.long_text), ("short", plan.first_segment_text)):
        counted = measure_costs(stack, f"{text(name)} ({label}, {time.time():.3f})", engine, audio_per_wall)
        per_minute = counted["per_minute"]
        counted["dollars_per_1000_minutes"] = {arch: cost_of(per_minute, arch) for arch in ("x86_64", "arm64")}
        counted["hosted_per_1000_minutes"] = hosted_costs(per_minute["characters"])
        counted["text"] = name
        measured[label] = counted
    return measured


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


def draw_breakdown(axes, breakdowns: dict[str, dict], raw_limit_ms: float) -> None:
    """Click to first sound, one bar per engine: each step from the one before it (medians)."""
    colours = ["#6d6875", "#2454c7", "#9aa9d9", "#e0a458", "#c97b2a", "#f2d16b", "#7fb069", "#4f8a3c", "#b3261e"]
    for row, steps in enumerate(breakdowns.values()):
        previous = 0.0
        for index, name in enumerate(STEPS):
            if name not in steps:
                continue
            width = max(0.0, steps[name] - previous)
            colour = colours[index % len(colours)]
            axes.barh(row, width, left=previous, color=colour, edgecolor="white")
            if width >= 25:
                axes.text(previous + width / 2, row, f"{width:.0f}", ha="center", va="center", fontsize=7)
            previous = max(previous, steps[name])
    axes.axvline(raw_limit_ms, color="black", linestyle="--", linewidth=1)
    axes.axvline(raw_limit_ms + 100, color="black", linestyle=":", linewidth=1)
    axes.set_yticks(range(len(breakdowns)), list(breakdowns))
    axes.set_ylim(-0.5, len(breakdowns) + 0.6)  # room for the legend above the bars
    axes.set_xlabel("ms after the click (medians); dashed: the raw limit, dotted: limit + 100 ms (the goal)")
    from matplotlib.patches import Patch

    handles = [Patch(color=colours[index % len(colours)], label=f"until {name}") for index, name in enumerate(STEPS)]
    axes.legend(handles=handles, fontsize=7, loc="upper right", ncol=3)
    axes.set_title("Click to first sound in headless chromium, step by step")


def draw_timelines(
    timelines: dict[str, dict], path: Path, breakdowns: dict[str, dict] | None = None, raw_limit_ms: float = 0.0
) -> None:
    """A panel of the click-to-sound breakdown, then one per engine: when each segment was listed,
    and when a listener would need it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = len(timelines) + (1 if breakdowns else 0)
    figure, panels = plt.subplots(rows, 1, figsize=(9, 4.2 * rows), dpi=110, squeeze=False)
    if breakdowns:
        draw_breakdown(panels[0, 0], breakdowns, raw_limit_ms)
    for axes, (engine, timeline) in zip(panels[rows - len(timelines) :, 0], timelines.items(), strict=True):
        listed = timeline["listed_at_s"]
        needed, elapsed = [], listed[0]  # a listener who starts when the first segment is listed
        for duration in timeline["durations_s"]:
            needed.append(elapsed)
            elapsed += duration
        numbers = [at - listed[0] for at in needed]  # where each segment starts in the stream
        axes.plot(numbers, needed, label="needed by a listener who starts at once", color="#b3261e", linewidth=2)
        axes.plot(numbers, listed, label="listed in the playlist (available)", color="#2454c7", linewidth=2)
        axes.fill_between(numbers, listed, needed, color="#2454c7", alpha=0.08)
        axes.set_xlabel("seconds into the stream (each segment's start: the first 2 s alone, then up to 8 s)")
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
        "start_answer_vs_trivial_get": section["start_answer"]["vs_trivial_get"],
        "first_segment_p50_ms": section["first_segment"]["p50_ms"],
        "first_segment_vs_raw_limit": section["first_segment"].get("vs_raw_limit"),
        "click_to_playing_minus_raw_limit_ms": (section.get("browser") or {}).get("minus_raw_limit_ms"),
        "audio_seconds_per_wall_second": section["throughput"]["audio_per_wall"],
        "memory_per_extra_session_mb": section["memory"]["per_extra_session_mb"],
        "wall_time_vs_plain_cli": section["limit"]["ratio"],
        "first_segment_with_vs_without_captions": section["first_segment"]["captions_ratio"],
        "s3_puts_by_generate_per_audio_minute": section["costs"]["long"]["per_minute"]["s3_puts_by_generate"],
    }
    goals = GOALS[engine]
    return {
        name: {"value": value, "goal": goal, "met": value <= goal if lower else value > goal}
        for name, value in figures.items()
        if name in goals and value is not None
        for goal, lower in [goals[name]]
    }


def verdict_of(met: dict, *names: str) -> bool | None:
    """The verdict of the first of ``names`` that has a goal for this engine."""
    for name in names:
        if name in met:
            return met[name]["met"]
    return None


def goal(engine: str, name: str, unit: str = "", prefix: str = "") -> str:
    value, lower = GOALS[engine][name]
    return f"{prefix}{'<=' if lower else '>'} {value:g}{unit}"


def table(results: dict) -> str:
    """A row per figure and engine; the verdict against that engine's goal where it has one."""
    rows = []
    for number, engine in enumerate(results["engines"]):
        section = results[engine]
        start, apart = section["start_answer"], section["start_answer"]["back_to_back"]
        first, throughput, limit = section["first_segment"], section["throughput"], section["limit"]
        memory, concurrent, met = section["memory"], section["concurrency"], section["targets"]
        browser = section["browser"]
        puts = {label: section["costs"][label]["per_minute"]["s3_puts_by_generate"] for label in ("long", "short")}
        many = concurrent["sessions"]
        figures = [
            (
                "start answer p50 / p95",
                f"{start['p50_ms']:.1f} / {start['p95_ms']:.1f} ms; "
                f"{start['vs_trivial_get']:.1f}x a trivial GET ({start['trivial_get']['p50_ms']:.1f} ms)",
                goal(engine, "start_answer_vs_trivial_get", "x the GET"),
                verdict_of(met, "start_answer_vs_trivial_get"),
            ),
            ("  ...back to back", f"{apart['p50_ms']:.1f} / {apart['p95_ms']:.1f} ms", "", None),
            (
                "first segment listed p50 / p95",
                f"{first['p50_ms']:.0f} / {first['p95_ms']:.0f} ms; {first['vs_raw_limit']:.2f}x the raw limit "
                f"({results['raw_limit']['p50_ms']:.0f} ms)",
                goal(engine, "first_segment_vs_raw_limit", "x the limit")
                if "first_segment_vs_raw_limit" in GOALS[engine]
                else goal(engine, "first_segment_p50_ms", " ms", "p50 "),
                verdict_of(met, "first_segment_vs_raw_limit", "first_segment_p50_ms"),
            ),
            (
                "click to first playing, chromium p50 / p95",
                f"{browser['playing']['p50_ms']:.0f} / {browser['playing']['p95_ms']:.0f} ms "
                f"({browser['clicks']} clicks); limit + {browser['minus_raw_limit_ms']:.0f} ms",
                goal(engine, "click_to_playing_minus_raw_limit_ms", " ms over the limit")
                if "click_to_playing_minus_raw_limit_ms" in GOALS[engine]
                else "",
                verdict_of(met, "click_to_playing_minus_raw_limit_ms"),
            ),
            (
                "S3 PUTs by generate per audio minute",
                f"{puts['long']:.1f} (5-minute text), {puts['short']:.1f} (1-minute text)",
                goal(engine, "s3_puts_by_generate_per_audio_minute", " (5-minute text)"),
                verdict_of(met, "s3_puts_by_generate_per_audio_minute"),
            ),
            (
                "  ...without captions (in turn)",
                f"{first['without_captions']['p50_ms']:.0f} / {first['without_captions']['p95_ms']:.0f} ms; "
                f"with / without = {first['captions_ratio']:.2f}x",
                goal(engine, "first_segment_with_vs_without_captions", "x"),
                verdict_of(met, "first_segment_with_vs_without_captions"),
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
                verdict_of(met, "audio_seconds_per_wall_second"),
            ),
            (
                "engine alone (the plain pipeline)",
                f"{limit['plain']}: {limit['plain_wall_s']:.2f} s; ours / alone = {limit['ratio']:.2f}x",
                goal(engine, "wall_time_vs_plain_cli", "x"),
                verdict_of(met, "wall_time_vs_plain_cli"),
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
                verdict_of(met, "memory_per_extra_session_mb"),
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


def aligned(cells: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[column]) for row in cells) for column in range(len(cells[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def breakdown_table(results: dict) -> str:
    """Click to first sound, step by step (medians of the clicks), each step's share and owner."""
    engines = results["engines"]
    cells = [("step (done at, ms after the click)", *engines, "whose time")]
    for name in STEPS:
        row = [name]
        for engine in engines:
            steps = results[engine]["browser"]["steps_p50_ms"]
            row.append(f"{steps[name]:.0f}" if name in steps else "")
        cells.append((*row, OWNERS[name]))
    cells.append(("the raw limit (espeak-ng | ffmpeg)", f"{results['raw_limit']['p50_ms']:.0f}", *[""] * len(engines)))
    return aligned(cells)


def cost_table(results: dict) -> str:
    """Dollars for 1,000 minutes of audio, by item, per engine and text, x86_64 (arm64's total too)."""
    columns = [(engine, label) for engine in results["engines"] for label in ("long", "short")]
    first = results[columns[0][0]]["costs"]["long"]["dollars_per_1000_minutes"]["x86_64"]
    cells = [("$ per 1,000 minutes", *[f"{engine} {label}" for engine, label in columns])]
    for item in first:
        cells.append(
            (
                item,
                *[
                    f"{results[engine]['costs'][label]['dollars_per_1000_minutes']['x86_64'][item]:.4f}"
                    for engine, label in columns
                ],
            )
        )
    cells.append(
        (
            "total on arm64",
            *[
                f"{results[engine]['costs'][label]['dollars_per_1000_minutes']['arm64']['total']:.4f}"
                for engine, label in columns
            ],
        )
    )
    for name in results[columns[0][0]]["costs"]["long"]["hosted_per_1000_minutes"]:
        cells.append(
            (
                name,
                *[
                    f"{results[engine]['costs'][label]['hosted_per_1000_minutes'][name]:.2f}"
                    for engine, label in columns
                ],
            )
        )
    for figure, unit in (("s3_puts", ""), ("dynamodb_writes", ""), ("status_requests", ""), ("cpu_s", " s")):
        cells.append(
            (
                f"{figure} per minute",
                *[f"{results[engine]['costs'][label]['per_minute'][figure]:.2f}{unit}" for engine, label in columns],
            )
        )
    return aligned(cells)


def scaling_table(results: dict) -> str:
    cells = [("work", *results["engines"])]
    first = results[results["engines"][0]]["scaling"]
    for chars in first["by_text"]:
        cells.append(
            (
                f"text of {chars} chars: first segment / total / memory",
                *[
                    "{first_segment_ms:.0f} ms / {total_s:.2f} s / {memory_mb:.0f} MB".format(
                        **results[engine]["scaling"]["by_text"][chars]
                    )
                    for engine in results["engines"]
                ],
            )
        )
    for count in first["by_sessions"]:
        cells.append(
            (
                f"{count} sessions at once (1,000 chars): first segment p50 / all done / memory",
                *[
                    "{first_segment_p50_ms:.0f} ms / {all_done_s:.2f} s / {memory_mb:.0f} MB".format(
                        **results[engine]["scaling"]["by_sessions"][count]
                    )
                    for engine in results["engines"]
                ],
            )
        )
    return aligned(cells)


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
            results[engine]["costs"] = measure_engine_costs(stack, plan, engine, per_wall)
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


if __name__ == "__main__":
    main()
