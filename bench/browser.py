"""The demo page in headless chromium: where the time from the click to the first sound goes.

Used by `make bench` and by the page's tests (tests/test_page.py). Every step is in
milliseconds after the click, read from the page (``window.audiostream.steps``) except when the first
segment was listed, which the session's status says on the server's clock (``first_segment_at``;
the browser and the stack share this machine's clock).
"""

from __future__ import annotations

import statistics

import requests

CHROMIUM = "/usr/bin/chromium"
# This machine has no network but loopback: keep chromium from calling home at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# In the order they happen; the first three are the server's, the rest the player's.
STEPS = (
    "startAnswered",
    "firstSegmentListed",
    "statusNamedASegment",
    "multivariantPlaylistLoaded",
    "audioPlaylistLoaded",
    "initLoaded",
    "firstSegmentLoaded",
    "firstSegmentBuffered",
    "playing",
)
OWNERS = {
    "startAnswered": "the start request (item, cache claim, playlists)",
    "firstSegmentListed": "generate: claim, speech, ffmpeg, uploads",
    "statusNamedASegment": "the page's status poll (its wait to poll again: below)",
    "multivariantPlaylistLoaded": "hls.js: master.m3u8 (loaded at the start answer)",
    "audioPlaylistLoaded": "hls.js: audio.m3u8",
    "initLoaded": "hls.js: init.mp4",
    "firstSegmentLoaded": "hls.js: audio_000.m4s",
    "firstSegmentBuffered": "MSE: the segment appended",
    "playing": "the media element starts playing",
}


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def click_to_sound(page, base_url: str, text: str, engine: str | None = None, timeout_ms: int = 20_000) -> dict:
    """Start ``text`` from the page (already open at ``base_url``), wait for its first sound and its
    end; answer each step's milliseconds after the click."""
    page.fill("#prompt", text)
    if engine is not None:
        page.select_option("#engine", engine)
    page.click("#start")
    page.wait_for_function("window.audiostream.firstSoundMs !== null", timeout=timeout_ms)
    page.wait_for_function("['done', 'error'].includes(document.body.dataset.state)", timeout=timeout_ms)
    steps, clicked_at, session_id = page.evaluate(
        "[window.audiostream.steps, window.audiostream.clickedAtEpochMs, window.audiostream.sessionId]"
    )
    status = requests.get(f"{base_url}/audiostream/task-status/{session_id}/", timeout=10).json()
    if status.get("first_segment_at") is not None:
        steps["firstSegmentListed"] = round(status["first_segment_at"] * 1000 - clicked_at)
    return {name: steps[name] for name in STEPS if name in steps}


def medians(runs: list[dict]) -> dict:
    """Each step's median over the runs that have it."""
    return {
        name: statistics.median(run[name] for run in runs if name in run)
        for name in STEPS
        if any(name in run for run in runs)
    }
