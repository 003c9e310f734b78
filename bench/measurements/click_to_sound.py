"""Clicks on the demo page in headless chromium: where the time to the first sound goes, step by step
(bench/browser.py, which the page's test shares)."""

from __future__ import annotations

import statistics
import time

from browser import click_to_sound, launch, medians
from plan import Plan, text
from stack import LocalStack
from stats import spread


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
