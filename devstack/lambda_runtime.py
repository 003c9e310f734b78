"""What Lambda does around our handlers, for the dev stack: a context object, asynchronous invokes
run by a pool of workers, and the on-failure destination (an SQS message for the drain function).
An invoke made during a start request keeps that request's client's place (client_sessions.py)
until generate returns."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .client_sessions import Hold, give_back_start_hold, take_start_hold

logger = logging.getLogger(__name__)

# An event as Lambda hands it to a handler (parsed JSON); a handler takes it with a context.
Event = dict[str, Any]
Handler = Callable[[Event, Any], Any]


@dataclass
class LocalLambdaContext:
    """What a handler reads from Lambda's context object, for handlers run outside Lambda."""

    function_name: str = "audiostream-generate"
    timeout_seconds: float = 900.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 1769
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:audiostream-generate"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def on_failure_record(request_payload: Event, error: BaseException) -> dict[str, Any]:
    """The record Lambda sends to an on-failure destination when an invocation raised."""
    return {
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 1},
        "requestPayload": request_payload,
        "responsePayload": {"errorMessage": str(error), "errorType": type(error).__name__},
    }


def sqs_event(*bodies: dict[str, Any]) -> Event:
    """An SQS event as Lambda's poller hands it to a function, one record per message body."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": uuid.uuid4().hex,
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:local:000000000000:FailedGenerationsQueue",
                "awsRegion": "local",
            }
            for body in bodies
        ]
    }


class LocalInvoker:
    """Runs the handler in a pool of ``concurrency`` workers; further sessions wait in order. An
    invocation that raises goes, as an SQS message, to ``on_failure`` (the drain function's handler),
    as Lambda sends it to the on-failure destination."""

    def __init__(self, handler: Handler, concurrency: int, on_failure: Handler | None = None):
        self.handler = handler
        self.on_failure = on_failure
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="generate")

    def invoke(self, event: Event) -> None:
        hold = take_start_hold()
        try:
            self.pool.submit(self._run, json.loads(json.dumps(event)), hold)
        except BaseException:
            if hold is not None:
                give_back_start_hold(hold)
            raise

    def _run(self, event: Event, hold: Hold | None = None) -> None:
        try:
            self.handler(event, LocalLambdaContext())
        except Exception as error:
            logger.exception("the generate invocation failed")
            if self.on_failure is not None:
                context = LocalLambdaContext(function_name="audiostream-failed-generations", timeout_seconds=30)
                self.on_failure(sqs_event(on_failure_record(event, error)), context)
        finally:
            if hold is not None:
                hold.release()
