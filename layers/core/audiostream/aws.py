"""Cached boto3 clients, and requests sent side by side.

boto3 reads ``AWS_ENDPOINT_URL`` (and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``) itself, so the
same code talks to AWS, MinIO/LocalStack or the embedded moto server. Clients are created on first
use so tests and the local stack can set the environment first and call ``reset_clients()``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

# One loader for every session: reading the service models is most of what creating a client costs,
# and a reset should not pay it again.
_MODEL_LOADER = botocore.loaders.create_loader()


def _new_session() -> boto3.session.Session:
    """A session of its own for each client (boto3 sessions are not safe to share between threads),
    all of them reading the service models through the one loader."""
    botocore_session = botocore.session.get_session()
    botocore_session.register_component("data_loader", _MODEL_LOADER)
    return boto3.session.Session(botocore_session=botocore_session)


_creating = threading.Lock()
# Threads for requests that need not wait for each other: boto3's clients are safe to share between
# threads, and each request spends its time waiting on the network.
_side_by_side = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aws-request")


# boto3 builds its clients' classes at run time and has no type information here: a client is Any.
def client(service: str) -> Any:
    with _creating:  # two threads asking at once get one client, created once
        return _client(service)


@cache
def _client(service: str) -> Any:
    config = Config(
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
        s3={"addressing_style": os.environ.get("S3_ADDRESSING_STYLE", "auto")},
    )
    return _new_session().client(service, config=config)


def s3() -> Any:
    return client("s3")


def dynamodb() -> Any:
    return client("dynamodb")


def lambda_() -> Any:
    return client("lambda")


def reset_clients() -> None:
    """Forget the clients (credentials, region and endpoint are read again); the service models stay loaded."""
    _client.cache_clear()


def side_by_side(*requests: Callable[[], object]) -> list[BaseException | None]:
    """Send ``requests`` at once and wait for all of them; answers each one's exception (None: it
    succeeded), in order, so that the caller decides what a partial failure means."""
    futures = [_side_by_side.submit(request) for request in requests]
    return [future.exception() for future in futures]
