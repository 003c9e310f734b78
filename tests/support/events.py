"""The event files of ``events/`` (those ``sam local invoke -e`` uses), with a body of the test's own."""

from __future__ import annotations

import json

from .paths import EVENTS


def start_event(body: dict | None = None) -> dict:
    """API Gateway's event for ``POST /audiostream/start/``; ``body`` replaces the file's body."""
    event = json.loads((EVENTS / "start.json").read_text())
    if body is not None:
        event["body"] = json.dumps(body, ensure_ascii=False)
    return event


def cancel_event(task_id: str) -> dict:
    """API Gateway's event for ``POST /audiostream/cancel/<task_id>/``."""
    event = json.loads((EVENTS / "cancel.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/audiostream/cancel/{task_id}/"
    event["pathParameters"] = {"task_id": task_id}
    return event
