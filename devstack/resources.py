"""Create the table and bucket the template declares, where they do not exist yet (moto, MinIO, LocalStack)."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import ClientError

from audiostream import aws
from audiostream.config import Settings


def _missing(look: Callable[[], object], absent: set[str]) -> bool:
    """Whether what ``look`` asks for is absent (it fails with one of the ``absent`` error codes)."""
    try:
        look()
    except ClientError as error:
        if error.response["Error"]["Code"] in absent:
            return True
        raise
    return False


def ensure_table(settings: Settings) -> None:
    ddb = aws.dynamodb()
    if not _missing(
        lambda: ddb.describe_table(TableName=settings.storage.sessions_table), {"ResourceNotFoundException"}
    ):
        return
    created = ddb.create_table(
        TableName=settings.storage.sessions_table,
        AttributeDefinitions=[{"AttributeName": "session_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    if created["TableDescription"]["TableStatus"] != "ACTIVE":
        ddb.get_waiter("table_exists").wait(TableName=settings.storage.sessions_table)
    ddb.update_time_to_live(
        TableName=settings.storage.sessions_table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )


def ensure_bucket(settings: Settings) -> None:
    s3 = aws.s3()
    if not _missing(lambda: s3.head_bucket(Bucket=settings.storage.media_bucket), {"404", "NoSuchBucket", "NotFound"}):
        return
    region = s3.meta.region_name
    if region and region != "us-east-1":
        s3.create_bucket(Bucket=settings.storage.media_bucket, CreateBucketConfiguration={"LocationConstraint": region})
    else:
        s3.create_bucket(Bucket=settings.storage.media_bucket)
    s3.put_bucket_lifecycle_configuration(
        Bucket=settings.storage.media_bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-session-media",
                    "Status": "Enabled",
                    "Filter": {"Prefix": f"{settings.storage.media_prefix}/"},
                    "Expiration": {"Days": settings.storage.session_ttl_days},
                }
            ]
        },
    )


def ensure_resources(settings: Settings) -> None:
    ensure_table(settings)
    ensure_bucket(settings)
