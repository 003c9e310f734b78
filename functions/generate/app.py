"""Async-invoked by start: claim the session and stream its speech as HLS. Also drains the queue of
failed invocations (the on-failure destination), ending their sessions as FAILURE."""

from audiostream.failed_invocations import end_failed_invocations, is_failure_batch
from audiostream.generate import generate
from audiostream.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    if is_failure_batch(event):
        return end_failed_invocations(event)
    return generate(event, remaining_seconds=context.get_remaining_time_in_millis() / 1000)
