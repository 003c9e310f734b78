"""How start hands a session to generate: an asynchronous Lambda invoke in AWS, or the same handler
run by a background worker on the local stack. ``GENERATE_INVOKER`` chooses (``lambda`` | ``local``)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from . import aws
from .config import Settings
from .observability import logger

Handler = Callable[[dict, Any], Any]


class Invoker(Protocol):
    def invoke(self, event: dict) -> None: ...


class LambdaInvoker:
    def __init__(self, function_name: str):
        self.function_name = function_name

    def invoke(self, event: dict) -> None:
        aws.lambda_().invoke(
            FunctionName=self.function_name, InvocationType="Event", Payload=json.dumps(event).encode()
        )


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


FailureHandler = Callable[[dict, BaseException], Any]


class LocalInvoker:
    """Runs the handler in a pool of ``concurrency`` workers; further sessions wait in order. An
    invocation that raises goes to ``on_failure``, as Lambda sends it to the on-failure destination."""

    def __init__(self, handler: Handler, concurrency: int, on_failure: FailureHandler | None = None):
        self.handler = handler
        self.on_failure = on_failure
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="generate")

    def invoke(self, event: dict) -> None:
        self.pool.submit(self._run, json.loads(json.dumps(event)))

    def _run(self, event: dict) -> None:
        try:
            self.handler(event, LocalLambdaContext())
        except Exception as error:
            logger.exception("the generate invocation failed")
            if self.on_failure is not None:
                self.on_failure(event, error)


_local_handler: Handler | None = None
_local_on_failure: FailureHandler | None = None


def install_local_handler(handler: Handler | None, on_failure: FailureHandler | None = None) -> None:
    """The local stack gives the generate function's handler to the local invoker."""
    global _local_handler, _local_on_failure
    _local_handler, _local_on_failure = handler, on_failure
    get_invoker.cache_clear()


@lru_cache(maxsize=1)
def get_invoker(settings: Settings) -> Invoker:
    if settings.generate_invoker == "lambda":
        return LambdaInvoker(settings.generate_function_name)
    if settings.generate_invoker == "local":
        if _local_handler is None:
            raise RuntimeError("GENERATE_INVOKER=local needs the local stack to install the generate handler")
        return LocalInvoker(_local_handler, settings.local_generate_concurrency, _local_on_failure)
    raise ValueError(f"GENERATE_INVOKER must be 'lambda' or 'local', not {settings.generate_invoker!r}")
