"""Cached boto3 clients.

boto3 reads ``AWS_ENDPOINT_URL`` (and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``) itself, so the
same code talks to AWS, MinIO/LocalStack or the embedded moto server. Clients are created on first
use so tests and the local stack can set the environment first and call ``reset_clients()``.
"""

from __future__ import annotations

import os
from functools import cache

import boto3
from botocore.config import Config


@cache
def client(service: str):
    config = Config(
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
        s3={"addressing_style": os.environ.get("S3_ADDRESSING_STYLE", "auto")},
    )
    return boto3.session.Session().client(service, config=config)


def s3():
    return client("s3")


def dynamodb():
    return client("dynamodb")


def lambda_():
    return client("lambda")


def reset_clients() -> None:
    client.cache_clear()
