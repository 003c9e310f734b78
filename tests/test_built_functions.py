"""`sam build`, then each built function called with the files in events/, in a Python that sees only
what Lambda would (the function's folder and the core layer), against moto's server; generate uses
the ffmpeg of the built ffmpeg layer and the gtts engine the template configures."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import m3u8
import pytest
import requests

from support.audio import espeak_alone_duration, probe_hls
from support.fake_gtts import FakeGoogleTts
from support.stack import storage_server_process
from support.template import REPO, TOOLS_BIN

BUILD = REPO / ".aws-sam" / "build"
EVENTS = REPO / "events"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
REGION = "us-east-1"


@pytest.fixture(scope="module")
def built():
    """`sam build` as a user runs it; the venv's python3.12 is first on PATH, as sam needs."""
    sam = TOOLS_BIN / "sam"
    if not sam.exists():
        pytest.fail(f"{sam} is missing: `make test` installs the template tools (make tools)")
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run([str(sam), "build"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return BUILD


@pytest.fixture(scope="module")
def aws_endpoint():
    """moto's server with the table and bucket, and a generate function that accepts async invokes."""
    with storage_server_process() as url:
        yield url, prepare(url)


def prepare(url: str) -> dict:
    requests.post(f"{url}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10).raise_for_status()
    options = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    boto3.client("dynamodb", **options).create_table(
        TableName="built-sessions",
        AttributeDefinitions=[{"AttributeName": "session_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("s3", **options).create_bucket(Bucket="built-media")
    role = boto3.client("iam", **options).create_role(RoleName="generate", AssumeRolePolicyDocument="{}")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    boto3.client("lambda", **options).create_function(
        FunctionName="audiostream-generate",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
    )
    return options


@pytest.fixture(scope="module")
def google():
    server = FakeGoogleTts()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lambda_env(built, aws_endpoint, google):
    """The environment template.yaml gives the functions, pointed at moto and the local gTTS server."""
    url, _ = aws_endpoint
    return {
        "PATH": "/nonexistent",  # no system ffmpeg: generate must use the layer's
        "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "SESSIONS_TABLE": "built-sessions",
        "MEDIA_BUCKET": "built-media",
        "TTS_ENGINE": "gtts",
        "TTS_ENGINES": "gtts",
        "GTTS_URL": google.endpoint,
        "GENERATE_INVOKER": "lambda",
        "GENERATE_FUNCTION_NAME": "audiostream-generate",
        "FFMPEG_PATH": str(built / "FfmpegLayer" / "bin" / "ffmpeg"),
        "POWERTOOLS_SERVICE_NAME": "audiostream",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def invoke(function: str, event: dict | Path, env: dict, tmp_path: Path, layer: Path | None = None) -> dict:
    if isinstance(event, dict):
        path = tmp_path / f"{function}-event.json"
        path.write_text(json.dumps(event))
        event = path
    layer = layer if layer is not None else BUILD / "CoreLayer" / "python"
    result = subprocess.run(
        [
            BASE_PYTHON,
            "-I",
            "-S",
            "-B",
            str(REPO / "tests" / "support" / "run_built_handler.py"),
            str(BUILD / function),
            str(layer),
            str(event),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    (answer,) = [line for line in result.stdout.splitlines() if line.startswith("HANDLER-ANSWER ")]
    return json.loads(answer.removeprefix("HANDLER-ANSWER "))


def with_task_id(task_id: str) -> dict:
    event = json.loads((EVENTS / "status.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/audiostream/task-status/{task_id}/"
    event["pathParameters"] = {"task_id": task_id}
    return event


def stored(options: dict, key: str) -> bytes:
    return boto3.client("s3", **options).get_object(Bucket="built-media", Key=key)["Body"].read()


def session_item(options: dict, session_id: str) -> dict:
    return boto3.client("dynamodb", **options).get_item(
        TableName="built-sessions", Key={"session_id": {"S": session_id}}, ConsistentRead=True
    )["Item"]


def test_the_built_functions_start_report_and_generate_a_session(lambda_env, aws_endpoint, google, tmp_path, built):
    _, options = aws_endpoint
    answer = invoke("StartFunction", EVENTS / "start.json", lambda_env, tmp_path)
    assert answer["statusCode"] == 202, answer
    session_id = json.loads(answer["body"])["session_id"]
    assert session_item(options, session_id)["state"]["S"] == "PENDING"
    empty = m3u8.loads(stored(options, f"media/hls/{session_id}/audio.m3u8").decode())
    assert empty.segments == [] and not empty.is_endlist

    status = invoke("StatusFunction", with_task_id(session_id), lambda_env, tmp_path)
    assert status["statusCode"] == 200 and json.loads(status["body"])["state"] == "PENDING"

    assert invoke("GenerateFunction", {"session_id": session_id}, lambda_env, tmp_path) == {
        "session_id": session_id,
        "outcome": "SUCCESS",
    }
    status = json.loads(invoke("StatusFunction", with_task_id(session_id), lambda_env, tmp_path)["body"])
    assert status["state"] == "SUCCESS" and status["progress"] == 100

    playlist = m3u8.loads(stored(options, f"media/hls/{session_id}/audio.m3u8").decode())
    assert playlist.is_endlist and len(playlist.segments) == status["segments"] > 0
    init = stored(options, f"media/hls/{session_id}/init.mp4")
    segments = [stored(options, f"media/hls/{session_id}/{segment.uri}") for segment in playlist.segments]
    audio = probe_hls(init, segments)
    text = json.loads(json.loads((EVENTS / "start.json").read_text())["body"])["prompt"]
    assert audio["codec"] == "aac"
    assert audio["decoded_duration"] == pytest.approx(espeak_alone_duration(text), rel=0.05)
    assert [request["text"] for request in google.requests][-2:] == [
        "Hello from audiostream.",
        "This sentence was spoken by the generate function.",
    ]
    # The layer's ffmpeg 7.0 wrote the stream, not this machine's ffmpeg 5.1 (whose muxer is Lavf59).
    (tmp_path / "init.mp4").write_bytes(init)
    assert b"Lavf61" in init, "init.mp4 was not written by the ffmpeg of the layer"


def test_the_built_generate_ends_a_session_whose_invocation_died(lambda_env, aws_endpoint, tmp_path):
    _, options = aws_endpoint
    answer = invoke("StartFunction", EVENTS / "start.json", lambda_env, tmp_path)
    session_id = json.loads(answer["body"])["session_id"]
    event = json.loads((EVENTS / "failed-generation.json").read_text())
    record = json.loads(event["Records"][0]["body"])
    record["requestPayload"] = {"session_id": session_id}
    event["Records"][0]["body"] = json.dumps(record)

    assert invoke("GenerateFunction", event, lambda_env, tmp_path) == {"batchItemFailures": []}
    item = session_item(options, session_id)
    assert item["state"]["S"] == "FAILURE" and "Task timed out" in item["error"]["S"]
    assert m3u8.loads(stored(options, f"media/hls/{session_id}/audio.m3u8").decode()).is_endlist


def test_a_function_built_without_its_layer_fails_to_import(lambda_env, tmp_path, built):
    """The harness sees only what Lambda would: without the core layer, nothing imports."""
    empty_layer = tmp_path / "empty-layer"
    empty_layer.mkdir()
    with pytest.raises(AssertionError, match="ModuleNotFoundError: No module named"):
        invoke("StatusFunction", with_task_id("0" * 32), lambda_env, tmp_path, layer=empty_layer)


def test_the_layers_hold_what_the_functions_need(built):
    ffmpeg = built / "FfmpegLayer" / "bin" / "ffmpeg"
    assert os.access(ffmpeg, os.X_OK)
    version = subprocess.run([str(ffmpeg), "-hide_banner", "-version"], capture_output=True, text=True).stdout
    assert version.startswith("ffmpeg version 7.0.2-static")
    core = built / "CoreLayer" / "python"
    for package in ("audiostream", "fastapi", "mangum", "gtts", "m3u8", "aws_lambda_powertools", "boto3"):
        assert (core / package).is_dir(), f"{package} is missing from the core layer"
    for function in ("StartFunction", "StatusFunction", "GenerateFunction"):
        assert (built / function / "app.py").is_file()
