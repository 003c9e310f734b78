"""How start hands a session to generate. ``GENERATE_INVOKER`` chooses: ``lambda`` (an asynchronous
Lambda invoke, as in AWS) or ``local`` (whatever stand-in the process installed: the dev stack's
worker pool). The stand-in lives outside this package, which ships in the Lambda layer."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Protocol

from .. import aws
from ..config import Settings


class Invoker(Protocol):
    def invoke(self, event: dict[str, Any]) -> None: ...


class LambdaInvoker:
    def __init__(self, function_name: str):
        self.function_name = function_name

    def invoke(self, event: dict[str, Any]) -> None:
        aws.lambda_().invoke(
            FunctionName=self.function_name, InvocationType="Event", Payload=json.dumps(event).encode()
        )


_installed: Invoker | None = None


def install_invoker(invoker: Invoker | None) -> None:
    """Give ``GENERATE_INVOKER=local`` its invoker (the dev stack does, at its start)."""
    global _installed
    _installed = invoker
    get_invoker.cache_clear()


@lru_cache(maxsize=1)
def get_invoker(settings: Settings) -> Invoker:
    if settings.invocation.generate_invoker == "lambda":
        return LambdaInvoker(settings.invocation.generate_function_name)
    if _installed is None:
        raise RuntimeError("GENERATE_INVOKER=local needs a process (the dev stack) that installs an invoker")
    return _installed
