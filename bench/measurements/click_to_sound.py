"""Clicks on the demo page in headless chromium: where the time to the first sound goes, step by step
(bench/browser.py, which the page's test shares), and how long the page waits between a status answer
and its next status request, before the status names a segment and after (what the page does, seen
in chromium's network events: the cost of a minute of audio is counted at that rate)."""

from __future__ import annotations

import statistics
import time

from browser import click_to_sound, launch, medians
from plan import Plan, sentences_up_to, text
from stack import LocalStack
from stats import spread

STATUS_PATH = "/audiostream/task-status/"
ENDED = ("SUCCESS", "FAILURE", "REVOKED")
EXTRA_CLICKS = 3  # at most, should the clicks not show both of the page's waits (a short text ends fast)


class StatusPolls:
    """The page's status requests, as chromium made them (the page itself is left as it is)."""

    def __init__(self, page):
        self.finished: list = []
        page.on("requestfinished", self._finished)

    def _finished(self, request) -> None:
        if STATUS_PATH in request.url:
            self.finished.append(request)

    def waits(self) -> list[tuple[bool, float]]:
        """Each wait (ms) between a status answer of a session not yet ended and the page's next status
        request, with whether that answer named a segment; the requests seen so far are then forgotten."""
        polls = []
        for request in self.finished:
            response, timing = request.response(), request.timing
            if response is None or response.status != 200:
                continue
            polls.append((timing["startTime"], timing["startTime"] + timing["responseEnd"], response.json()))
        self.finished = []
        polls.sort(key=lambda poll: poll[0])
        return [
            (status.get("segments", 0) > 0, asked - answered)
            for (_, answered, status), (asked, _, _) in zip(polls, polls[1:], strict=False)
            if status["state"] not in ENDED
        ]


def seen_both(waits: list[tuple[bool, float]]) -> bool:
    return {named for named, _ in waits} == {False, True}


def poll_waits(waits: list[tuple[bool, float]]) -> dict:
    """The page's waits before the status names a segment and after, each summed up."""
    until = [wait for named, wait in waits if not named]
    after = [wait for named, wait in waits if named]
    if not until or not after:
        raise RuntimeError(
            f"the page's status polls were not seen both before and after a segment ({len(until)}, {len(after)})"
        )
    return {"until_a_segment": spread(until), "after_a_segment": spread(after)}


def measure_browser(stack: LocalStack, plan: Plan, engine: str, raw_limit_ms: float) -> dict:
    """Clicks on the demo page in headless chromium, each with words of its own: where the time to
    the first sound goes (bench/browser.py), step by step; and the page's waits between status polls."""
    from playwright.sync_api import sync_playwright

    runs, waits = [], []
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            page = chromium.new_context().new_page()
            polls = StatusPolls(page)
            page.goto(stack.url + "/")
            page.wait_for_function("document.getElementById('engine').options.length > 1")
            for number in range(plan.browser_clicks):
                spoken = f"{text(plan.first_segment_text)} ({engine} click {number}, {time.time():.3f})"
                runs.append(click_to_sound(page, stack.url, spoken, engine))
                waits.extend(polls.waits())
            for number in range(EXTRA_CLICKS):  # a longer text, for the page's waits only
                if seen_both(waits):
                    break
                spoken = f"{sentences_up_to(1000)} ({engine} extra click {number}, {time.time():.3f})"
                click_to_sound(page, stack.url, spoken, engine)
                waits.extend(polls.waits())
        finally:
            chromium.close()
    steps = medians(runs)
    playing = [run["playing"] for run in runs]
    return {
        "clicks": len(runs),
        "steps_p50_ms": steps,
        "playing": spread(playing),
        "minus_raw_limit_ms": statistics.median(playing) - raw_limit_ms,
        "status_poll_wait": poll_waits(waits),
        "runs": runs,
    }
