"""Async-invoked by start: claim the session and stream its speech as HLS."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from audiostream.config import get_settings
from audiostream.generation.invocation import generate
from audiostream.observability import logger, tracer
from audiostream.speech.engines import warm_engines

warm_engines(get_settings())  # a bad setting stops the cold start, naming the variable; a model loads here


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return generate(event, remaining_seconds=context.get_remaining_time_in_millis() / 1000)
