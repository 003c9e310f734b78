"""Cached boto3 clients.

boto3 reads ``AWS_ENDPOINT_URL`` (and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``) itself, so the
same code talks to AWS, MinIO/LocalStack or the embedded moto server. Clients are created on first
use so tests and the local stack can set the environment first and call ``reset_clients()``.
"""

from __future__ import annotations

import os
from functools import cache

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

# One loader for every session: reading the service models is most of what creating a client costs
# (about 75 of 95 ms for DynamoDB and S3 together), and a reset should not pay it again.
_MODEL_LOADER = botocore.loaders.create_loader()


def _new_session() -> boto3.session.Session:
    """A session of its own for each client (boto3 sessions are not safe to share between threads),
    all of them reading the service models through the one loader."""
    botocore_session = botocore.session.get_session()
    botocore_session.register_component("data_loader", _MODEL_LOADER)
    return boto3.session.Session(botocore_session=botocore_session)


@cache
def client(service: str):
    config = Config(
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
        s3={"addressing_style": os.environ.get("S3_ADDRESSING_STYLE", "auto")},
    )
    return _new_session().client(service, config=config)


def s3():
    return client("s3")


def dynamodb():
    return client("dynamodb")


def lambda_():
    return client("lambda")


def reset_clients() -> None:
    """Forget the clients (credentials, region and endpoint are read again); the service models stay loaded."""
    client.cache_clear()
