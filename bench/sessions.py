"""A session as the bench times it: until its first segment is listed, or whole."""

from __future__ import annotations

import time

from stack import LocalStack


def first_segment_after_start(stack: LocalStack, spoken: str, engine: str, cache: bool = False) -> tuple[dict, float]:
    began = time.perf_counter()
    started, _ = stack.start(spoken, engine, cache)
    while not stack.segments(started):
        if time.perf_counter() - began > 60:
            raise RuntimeError("no segment within 60 s")
        time.sleep(0.005)
    return started, time.perf_counter() - began


def one_long_session(stack: LocalStack, spoken: str, engine: str) -> dict:
    """A whole session: its wall time, its audio, when each segment was first listed, and the playlist's
    target duration (the longest a segment may be)."""
    began = time.perf_counter()
    started, _ = stack.start(spoken, engine)
    listed: dict[str, float] = {}
    durations: dict[str, float] = {}
    while True:
        now = time.perf_counter() - began
        playlist = stack.playlist(started)
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
        "target_duration_s": playlist.target_duration,
    }
