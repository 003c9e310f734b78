"""Async-invoked by start: claim the session and generate its HLS stream."""

from audiostream.generate import generate


def handler(event: dict, context) -> dict:
    return generate(event)
