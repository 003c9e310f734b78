"""Drains FailedGenerationsQueue, Lambda's on-failure destination for generate: each record is an
invocation that died (timeout, crash, out of memory) or never ran; its session is ended as FAILURE
with a closed playlist. A record that cannot be handled is reported alone and retried by SQS."""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from audiostream.config import get_settings
from audiostream.generation.recovery import end_failed_invocation
from audiostream.observability import logger, tracer

get_settings()  # a bad setting stops the cold start, naming the variable
# Every record failing is still a partial answer: SQS retries them and, after maxReceiveCount,
# moves them to UnprocessableFailuresQueue.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def end_session_of(record: SQSRecord) -> str:
    return end_failed_invocation(json.loads(record.body))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=end_session_of, processor=processor, context=context)
