"""Powertools for AWS Lambda: structured JSON logs, X-Ray tracing and CloudWatch metrics (EMF).

Outside Lambda the tracer switches itself off; logs and metrics still print as JSON lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "audiostream"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)


def emit_metric(name: str, unit: MetricUnit, value: float) -> None:
    # One EMF record per metric: thread-safe, which the shared Metrics object is not when the local
    # stack runs several sessions in one process.
    with single_metric(name=name, unit=unit, value=value, namespace=SERVICE) as metric:
        metric.add_dimension(name="service", value=SERVICE)


__all__ = ["MetricUnit", "emit_metric", "iterated_in_session_log_context", "logger", "session_log_context", "tracer"]


class session_log_context:
    """Every log line of this thread carries ``session_id`` while inside the block."""

    def __init__(self, session_id: str):
        self.session_id = session_id

    def __enter__(self) -> session_log_context:
        logger.thread_safe_append_keys(session_id=self.session_id)
        return self

    def __exit__(self, *exc_info: object) -> None:
        logger.thread_safe_remove_keys(["session_id"])


def iterated_in_session_log_context[T](session_id: str, items: Iterable[T]) -> Iterator[T]:
    """``items``, with the session's id on the log lines written while each is made, in whichever
    thread iterates them (the keys of session_log_context belong to one thread)."""
    with session_log_context(session_id):
        yield from items
