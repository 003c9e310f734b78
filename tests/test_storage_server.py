"""The dev stack's storage server applies each request atomically, as DynamoDB does, with many clients
at once: no update is lost, a condition holds for the write it guards, and a slow sender holds up nobody."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from audiostream import aws

from support.concurrency import at_once

THREADS = 4
INCREMENTS_PER_THREAD = 300


def key(name: str) -> dict:
    return {"session_id": {"S": name}}


def is_condition_failure(outcome) -> bool:
    return isinstance(outcome, ClientError) and outcome.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_concurrent_increments_of_one_item_each_see_the_one_before(settings, moto):
    table, ddb = settings.storage.sessions_table, aws.dynamodb()
    ddb.put_item(TableName=table, Item={**key("counter"), "n": {"N": "0"}})

    def increment(_thread):
        seen = []
        for _ in range(INCREMENTS_PER_THREAD):
            answer = ddb.update_item(
                TableName=table,
                Key=key("counter"),
                UpdateExpression="SET n = n + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
            seen.append(int(answer["Attributes"]["n"]["N"]))
        return seen

    outcomes = at_once(THREADS, increment)

    total = THREADS * INCREMENTS_PER_THREAD
    returned = sorted(value for seen in outcomes for value in seen)
    assert returned == list(range(1, total + 1)), "an update was lost or two saw the same value"
    stored = ddb.get_item(TableName=table, Key=key("counter"), ConsistentRead=True)["Item"]
    assert stored["n"] == {"N": str(total)}


def test_of_racing_conditional_puts_exactly_one_wins(settings, moto):
    table, ddb = settings.storage.sessions_table, aws.dynamodb()

    def put(i):
        return ddb.put_item(
            TableName=table,
            Item={**key("contested"), "owner": {"S": f"writer-{i}"}},
            ConditionExpression="attribute_not_exists(session_id)",
        )

    outcomes = at_once(16, put)

    winners = [i for i, outcome in enumerate(outcomes) if not isinstance(outcome, Exception)]
    assert len(winners) == 1, outcomes
    assert all(is_condition_failure(outcome) for i, outcome in enumerate(outcomes) if i not in winners), outcomes
    stored = ddb.get_item(TableName=table, Key=key("contested"), ConsistentRead=True)["Item"]
    assert stored["owner"] == {"S": f"writer-{winners[0]}"}


def test_of_racing_conditional_state_changes_exactly_one_wins(settings, moto):
    table, ddb = settings.storage.sessions_table, aws.dynamodb()
    ddb.put_item(TableName=table, Item={**key("claimed"), "state": {"S": "PENDING"}})

    def claim(i):
        return ddb.update_item(
            TableName=table,
            Key=key("claimed"),
            UpdateExpression="SET #state = :progress, claimed_by = :me",
            ConditionExpression="#state = :pending",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":pending": {"S": "PENDING"},
                ":progress": {"S": "PROGRESS"},
                ":me": {"S": f"claimant-{i}"},
            },
        )

    outcomes = at_once(16, claim)

    winners = [i for i, outcome in enumerate(outcomes) if not isinstance(outcome, Exception)]
    assert len(winners) == 1, outcomes
    assert all(is_condition_failure(outcome) for i, outcome in enumerate(outcomes) if i not in winners), outcomes
    stored = ddb.get_item(TableName=table, Key=key("claimed"), ConsistentRead=True)["Item"]
    assert stored["state"] == {"S": "PROGRESS"} and stored["claimed_by"] == {"S": f"claimant-{winners[0]}"}


def test_a_request_whose_body_is_still_coming_holds_up_nobody(settings, moto, storage_endpoint):
    address = urlsplit(storage_endpoint)
    with socket.create_connection((address.hostname, address.port), timeout=10) as slow:
        slow.sendall(
            b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n"
            b"X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 100\r\n\r\n{"
        )
        # Its body is not all there: a server reading bodies under its lock would keep this one waiting.
        impatient = boto3.client(
            "dynamodb", config=Config(read_timeout=5, connect_timeout=5, retries={"total_max_attempts": 1})
        )
        assert settings.storage.sessions_table in impatient.list_tables()["TableNames"]


def test_requests_are_counted_by_what_aws_bills_them_as(settings, moto, storage_endpoint):
    before = requests.get(f"{storage_endpoint}/_requests", timeout=10).json()
    s3 = aws.s3()
    for name in ("audio_000.m4s", "audio_001.m4s", "audio.m3u8"):
        s3.put_object(Bucket=settings.storage.media_bucket, Key=f"media/hls/counted/{name}", Body=b"x")
    s3.get_object(Bucket=settings.storage.media_bucket, Key="media/hls/counted/audio.m3u8")
    aws.dynamodb().get_item(TableName=settings.storage.sessions_table, Key={"session_id": {"S": "counted"}})
    after = requests.get(f"{storage_endpoint}/_requests", timeout=10).json()
    grown = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
    assert grown == {"s3 PUT .m4s": 2, "s3 PUT .m3u8": 1, "s3 GET .m3u8": 1, "dynamodb GetItem": 1}
