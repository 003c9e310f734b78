"""Where things are: the repository, the test data."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
EVENTS = REPO / "events"


def read_text(name: str) -> str:
    return (DATA / name).read_text()
