"""What `make bench` runs: how many of each measurement, on which texts, for which engines (the full
run, and the smoke that CI runs so that the bench cannot rot)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TEXTS = BENCH / "texts"
ENGINES = ("espeak", "hibari")


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
# Every figure for both engines, on one paragraph: the stack's start and the fresh process hibari
# alone needs (each loading the model) are most of its time.
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


def text(name: str) -> str:
    return (TEXTS / name).read_text()


def sentences_up_to(chars: int) -> str:
    """The five-minute text's first sentences, about ``chars`` characters (whole sentences)."""
    whole = text("five_minutes.txt")
    cut = whole.rfind(". ", 0, chars + 1)
    return whole[: cut + 1] if cut > 0 else whole[:chars]
