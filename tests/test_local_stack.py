"""The local stack against storage that is already running (as MinIO or LocalStack would be)."""

import time

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from support.stack import start_local_stack, stop_local_stack

pytestmark = pytest.mark.stack


@pytest.fixture
def existing_storage(monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="minio",
        aws_secret_access_key="minio-secret",
    )


def test_an_existing_endpoint_is_used_and_given_the_table_and_bucket(tmp_path, existing_storage):
    stack = start_local_stack(
        tmp_path / "stack.log",
        AWS_ENDPOINT_URL=existing_storage,
        AWS_ACCESS_KEY_ID="minio",
        AWS_SECRET_ACCESS_KEY="minio-secret",
        AWS_DEFAULT_REGION="eu-west-1",
        SESSIONS_TABLE="elsewhere-sessions",
        MEDIA_BUCKET="elsewhere-media",
    )
    try:
        assert f"storage: {existing_storage}" in stack.log.read_text()
        started = requests.post(f"{stack.url}/audiostream/start/", json={"text": "Stored elsewhere."}, timeout=10)
        assert started.status_code == 202
        task_id = started.json()["task_id"]
        deadline = time.monotonic() + 30
        while requests.get(f"{stack.url}/audiostream/task-status/{task_id}/", timeout=10).json()["state"] != "SUCCESS":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        stop_local_stack(stack)

    item = client("dynamodb", existing_storage).get_item(
        TableName="elsewhere-sessions", Key={"session_id": {"S": task_id}}
    )["Item"]
    assert item["state"]["S"] == "SUCCESS"
    ttl = client("dynamodb", existing_storage).describe_time_to_live(TableName="elsewhere-sessions")
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    keys = [obj["Key"] for obj in client("s3", existing_storage).list_objects_v2(Bucket="elsewhere-media")["Contents"]]
    assert f"media/hls/{task_id}/audio_000.m4s" in keys and f"media/hls/{task_id}/init.mp4" in keys
