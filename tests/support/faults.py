"""Faults injected below botocore: requests refused as the service would refuse them, or applied and
their answers lost. The client's own retry logic then does what it does in AWS."""

from __future__ import annotations

import requests
from botocore.awsrequest import AWSResponse

from audiostream import aws

SERVICES = {"PutObject": "s3", "PutItem": "dynamodb", "UpdateItem": "dynamodb", "SynthesizeSpeech": "polly"}


def fail_requests(operation: str, times: int, status: int, body: bytes, headers=None):
    """Make botocore's next ``times`` ``operation`` requests come back with ``status`` without reaching
    the service, as it would refuse them; the client's own retry logic then does what it does in AWS."""
    service = SERVICES[operation]
    failures = {"left": times, "sent": 0}

    def answer(request, **_):
        failures["sent"] += 1
        if failures["left"] == 0:
            return None
        failures["left"] -= 1
        return AWSResponse(request.url, status, headers or {}, _Body(body))

    aws.client(service).meta.events.register_first(f"before-send.{service}.{operation}", answer)
    return failures


def lose_answers(operation: str, times: int):
    """Send botocore's next ``times`` ``operation`` requests to the service, which applies them, and
    hand the client a 500 instead of the answer: a timeout after the work was done, as it looks."""
    service = SERVICES[operation]
    lost = {"left": times}

    def answer(request, **_):
        if lost["left"] == 0:
            return None
        lost["left"] -= 1
        applied = requests.request(
            request.method, request.url, headers=dict(request.headers.items()), data=request.body, timeout=10
        )
        applied.raise_for_status()
        return AWSResponse(request.url, 500, {}, _Body(b'{"__type": "InternalServerError", "message": "lost"}'))

    aws.client(service).meta.events.register_first(f"before-send.{service}.{operation}", answer)
    return lost


class _Body:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body
