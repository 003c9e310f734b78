"""Time from the start request to the first segment listed in the playlist, against a running stack.

Usage: python bench/first_segment.py [BASE_URL] [RUNS] [ENGINE]
(default http://127.0.0.1:8000, 15 runs, the engine the stack picks for English: hibari on `make run`)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import m3u8
import requests

TEXT = (Path(__file__).resolve().parent / "texts" / "three_paragraphs.txt").read_text()


def measure(base: str, http: requests.Session, engine: str | None) -> tuple[float, float, str]:
    """(start answer, first segment listed) in seconds, and the engine that spoke."""
    body = {"text": TEXT, "cache": False}  # generated anew each time: a content-cache hit times only the cache
    if engine is not None:
        body["engine"] = engine
    began = time.perf_counter()
    answer = http.post(f"{base}/audiostream/start/", json=body, timeout=10)
    answer.raise_for_status()
    start_answer = time.perf_counter() - began
    started = answer.json()
    playlist = base + started["playlist"]
    while not m3u8.loads(http.get(playlist, timeout=10).text).segments:
        if time.perf_counter() - began > 30:
            raise RuntimeError("no segment within 30 s")
        time.sleep(0.005)
    first_segment = time.perf_counter() - began
    spoken_by = http.get(base + started["status_url"], timeout=10).json().get("engine")
    return start_answer, first_segment, spoken_by


def main() -> None:
    base = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    engine = sys.argv[3] if len(sys.argv) > 3 else None
    http = requests.Session()
    results = []
    for _ in range(runs):
        results.append(measure(base, http, engine))
        time.sleep(1.5)  # let the previous session finish, so runs do not overlap
    starts = sorted(r[0] * 1000 for r in results)
    firsts = sorted(r[1] * 1000 for r in results)
    engines = sorted({r[2] or "?" for r in results})
    print(f"runs: {runs}; engine: {', '.join(engines)}" + ("" if engine else " (the stack's choice)"))
    print(f"start answer ms: median {statistics.median(starts):.1f}, min {starts[0]:.1f}, max {starts[-1]:.1f}")
    print(f"first segment listed ms: median {statistics.median(firsts):.1f}, min {firsts[0]:.1f}, max {firsts[-1]:.1f}")


if __name__ == "__main__":
    main()
