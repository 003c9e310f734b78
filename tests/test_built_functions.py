"""`sam build`, then each built function called with the files in events/, in a Python that sees only
what Lambda would (the function's folder and the core layer), against the dev stack's storage server
with IAM enforced: each function runs as an IAM identity holding exactly the actions template.yaml
grants it, and any call it makes outside them fails the test, whatever the handler made of the refusal.

Every path a function takes in AWS is run: start (202, a refused body, generate not invocable), status
(each state, an unknown id, the engines), generate (gtts, Polly, the language model whose key is in
SSM; SUCCESS and FAILURE; a duplicate delivery), the on-failure drain (a session that never started, one
that died mid-stream, one already ended). Each function's runs together use every action it is granted,
and each granted action, taken away, makes a run fail.

The runs stand for a deployment with every optional grant on (``DEPLOYED``: Polly offered), so that
every action the template can grant is exercised; a deployment with the defaults (no Polly) is run too,
as the smaller identities that deployment gets.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import m3u8
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.exceptions import ClientError

from support.audio import espeak_alone_duration, probe_hls
from support.events import cancel_event, start_event
from support.fake_gtts import FakeGoogleTts
from support.fake_openai import FakeOpenAi
from support.iam import (
    MOTO_ACTION_NAMES,
    REGION,
    Identity,
    PermissionMissing,
    create_identity,
    enforce_iam,
    iam_action,
    is_refusal,
    refusals_in,
)
from support.loopback import LoopbackServer
from support.run_built_handler import ANSWER_PREFIX, CALLS_PREFIX, payload_hash_signing
from support.stack import storage_server_process
from support.template import (
    FUNCTIONS,
    REPO,
    TOOLS_BIN,
    Parameters,
    actions,
    function,
    function_environment,
    function_layers,
    load_template,
    parameter_values,
    resources,
    text_of,
)

pytestmark = pytest.mark.build

BUILD = REPO / ".aws-sam" / "build"
EVENTS = REPO / "events"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)

# What the template's !Ref of a resource names, here.
LOCAL_NAMES = {"SessionsTable": "built-sessions", "MediaBucket": "built-media", "GenerateFunction": "built-generate"}
OPENAI_KEY = "sk-from-the-parameter-store"
# The template's parameters for the deployment these runs stand for (the defaults for the others).
DEPLOYED = {"EnablePolly": "true"}
# The deployment with the neural voice, the largest there is: what the size limit is checked on.
NEURAL = {"EnableNeuralVoice": "true"}
LLM_ANSWER = "Lighthouses guide ships along dark coasts. Their keepers once lived in the towers."


# ---------------------------------------------------------------- the build and the stack


@pytest.fixture(scope="module")
def built():
    """`sam build` as a user runs it; the venv's python3.12 is first on PATH, as sam needs. With the
    neural voice on: sam builds every layer of the template whatever its condition (so the output is the
    same either way), and the runs below choose their deployment's layers from it."""
    sam = TOOLS_BIN / "sam"
    if not sam.exists():
        pytest.fail(f"{sam} is missing: `make test` installs the template tools (make tools)")
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    overrides = " ".join(f"{name}={value}" for name, value in NEURAL.items())
    result = subprocess.run(
        [str(sam), "build", "--parameter-overrides", overrides],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return BUILD


def parameter_value(name: str, parameters: Parameters = DEPLOYED) -> str:
    return parameter_values(parameters)[name]


def granted(name: str, parameters: Parameters = DEPLOYED) -> set[str]:
    """The IAM actions template.yaml grants the function ``name`` in this deployment."""
    return actions(name, parameters)


def resolve(value, parameters: Parameters = DEPLOYED) -> str:
    """A template value as CloudFormation would give it, with this stack's names."""
    return text_of(value, parameters, LOCAL_NAMES)


def template_environment(name: str, parameters: Parameters = DEPLOYED) -> dict[str, str]:
    """The environment template.yaml gives the function ``name`` in this deployment: Globals, then its
    own (each Fn::If already chosen for the deployment's parameters)."""
    return {key: resolve(value, parameters) for key, value in function_environment(name, parameters).items()}


class QuietAboutResets:
    """A fake server that does not print a traceback when a client dies mid-connection (a generate
    killed on purpose, a keep-alive connection dropped when the function's process ends)."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class QuietOpenAi(QuietAboutResets, FakeOpenAi):
    pass


class GatedGoogle(QuietAboutResets, FakeGoogleTts):
    """The fake Google TTS, which can hold requests back: after ``hold_after(n)``, n more requests are
    answered and later ones wait until ``release()``."""

    def __init__(self):
        super().__init__()
        self.arrivals = 0
        self.let_through: int | None = None
        self._open = threading.Event()
        self._open.set()
        self._count = threading.Lock()

    def hold_after(self, requests_answered: int) -> None:
        with self._count:
            self.let_through = self.arrivals + requests_answered
            self._open.clear()

    def release(self) -> None:
        self._open.set()

    def finish_request(self, request, client_address) -> None:
        with self._count:
            self.arrivals += 1
            held = self.let_through is not None and self.arrivals > self.let_through
        if held:
            self._open.wait(60)
        super().finish_request(request, client_address)


class LambdaWithoutGenerate(LoopbackServer):
    """A Lambda endpoint where generate is not deployed: every invoke answers 404 ResourceNotFound, as
    AWS does (moto's docker-less Lambda accepts an invoke of any name)."""

    def __init__(self):
        super().__init__(_NotFound)
        self.start()


class _NotFound(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        name = self.path.split("/functions/")[-1].split("/")[0]
        body = json.dumps({"Type": "User", "Message": f"Function not found: {name}"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-ErrorType", "ResourceNotFoundException")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@dataclass
class Run:
    function: str
    returncode: int
    answer: dict | None
    calls: list[dict]
    stdout: str
    stderr: str

    @property
    def used(self) -> set[str]:
        """The IAM actions of the calls the storage allowed."""
        return {iam_action(call) for call in self.calls if not is_refusal(call)}

    def refusals(self) -> list[str]:
        output = "\n".join(line for line in self.stdout.splitlines() if not line.startswith(CALLS_PREFIX))
        return refusals_in(self.calls, output + "\n" + self.stderr)

    def calls_to(self, operation: str) -> list[dict]:
        return [call for call in self.calls if call["operation"] == operation]


class Launched:
    def __init__(self, name: str, process: subprocess.Popen):
        self.name = name
        self.process = process

    def wait(self, timeout: float = 300) -> Run:
        stdout, stderr = self.process.communicate(timeout=timeout)
        lines = stdout.splitlines()
        answers = [json.loads(line.removeprefix(ANSWER_PREFIX)) for line in lines if line.startswith(ANSWER_PREFIX)]
        calls = [json.loads(line.removeprefix(CALLS_PREFIX)) for line in lines if line.startswith(CALLS_PREFIX)]
        return Run(
            self.name,
            self.process.returncode,
            answers[0] if answers else None,
            calls[0] if calls else [],
            stdout,
            stderr,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=30)


@dataclass
class Stack:
    url: str
    admin: Identity
    identities: dict[str, Identity]
    google: GatedGoogle
    openai: FakeOpenAi
    no_generate: LambdaWithoutGenerate
    folder: Path
    started: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)  # what start gave generate, by session id

    # ------------------------------------------------------------ calling a built function

    def without_generate(self) -> dict[str, str]:
        """Environment changes under which start's invoke of generate fails (Lambda answers 404)."""
        return {"AWS_ENDPOINT_URL_LAMBDA": self.no_generate.origin}

    def environment(
        self, name: str, identity: Identity, parameters: Parameters = DEPLOYED, **changes: str
    ) -> dict[str, str]:
        """What Lambda gives the function (the template's variables and the execution role's
        credentials), pointed at the local servers; nothing of this machine's own settings."""
        env = {
            "PATH": "/nonexistent",  # no system ffmpeg: generate must use the layer's
            "LANG": "C.UTF-8",
            "TMPDIR": str(self.folder),
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_EC2_METADATA_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "GTTS_URL": self.google.endpoint,  # gTTS's own endpoint, as AWS_ENDPOINT_URL is AWS's
            **identity.environment(),
        }
        for key, value in template_environment(name, parameters).items():
            # Lambda extracts layers into /opt: the ffmpeg layer's bin/ is /opt/bin.
            env[key] = value.replace("/opt/bin/", f"{BUILD / 'FfmpegLayer' / 'bin'}/")
        env.update(changes)
        return env

    def launch(
        self,
        name: str,
        event: dict | Path,
        identity: Identity | None = None,
        layer: Path | None = None,
        parameters: Parameters = DEPLOYED,
        **env: str,
    ) -> Launched:
        if isinstance(event, Path):
            event = json.loads(event.read_text())
        path = self.folder / f"{name}-{secrets.token_hex(4)}.json"
        path.write_text(json.dumps(event))
        layer = layer if layer is not None else BUILD / "CoreLayer" / "python"
        # Bytecode goes to a cache of its own: none in the build, and later runs start faster.
        isolated = [BASE_PYTHON, "-I", "-S", "-X", f"pycache_prefix={self.folder / 'pycache'}"]
        command = [*isolated, str(REPO / "tests" / "support" / "run_built_handler.py")]
        timeout = function(name).get("Timeout", load_template()["Globals"]["Function"]["Timeout"])
        process = subprocess.Popen(
            [*command, str(BUILD / name), str(layer), str(path), str(timeout)],
            env=self.environment(name, identity or self.identities[name], parameters, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return Launched(name, process)

    def run(
        self,
        name: str,
        event: dict | Path,
        identity: Identity | None = None,
        parameters: Parameters = DEPLOYED,
        **env: str,
    ) -> Run:
        return self.launch(name, event, identity, parameters=parameters, **env).wait()

    def invoke(self, name: str, event: dict | Path, ledger: set | None = None, **env: str) -> Run:
        """Run the function as its identity; fail on any refusal, then on any crash."""
        return permitted(self.run(name, event, **env), ledger)

    # ------------------------------------------------------------ what the admin sees

    def item(self, session_id: str) -> dict:
        answer = self.admin.client("dynamodb").get_item(
            TableName=LOCAL_NAMES["SessionsTable"], Key={"session_id": {"S": session_id}}, ConsistentRead=True
        )
        return {key: next(iter(value.values())) for key, value in answer["Item"].items()}

    def stored(self, session_id: str, name: str) -> bytes:
        key = f"media/hls/{session_id}/{name}"
        return self.admin.client("s3").get_object(Bucket=LOCAL_NAMES["MediaBucket"], Key=key)["Body"].read()

    def playlist(self, session_id: str) -> m3u8.M3U8:
        return m3u8.loads(self.stored(session_id, "audio.m3u8").decode())

    def audio(self, session_id: str) -> dict:
        playlist = self.playlist(session_id)
        segments = [self.stored(session_id, segment.uri) for segment in playlist.segments]
        return probe_hls(self.stored(session_id, "init.mp4"), segments)

    def start(self, body: dict | None = None, ledger: set | None = None, **env: str) -> str:
        """A session as the built start leaves it (PENDING), generated anew whatever the content
        cache holds; answers its id."""
        body = {**(body or json.loads(start_event()["body"])), "cache": False}
        run = self.invoke("StartFunction", start_event(body), ledger, **env)
        assert run.answer["statusCode"] == 202, run.answer
        (invoke,) = run.calls_to("Invoke")
        event = json.loads(invoke["params"]["Payload"])
        self.words[event["session_id"]] = event["text"]
        return event["session_id"]

    def generate_event(self, session_id: str) -> dict:
        """The event start gave generate for this session (for a copy, its original's words)."""
        return {"session_id": session_id, "text": self.words[session_id]}

    def copy_of(self, engine: str = "gtts", **changes) -> str:
        """A new PENDING session like one the built start made (copied by the admin, with its empty
        playlist): cheaper than a start for the runs that only need one."""
        if engine not in self.started:
            body = {"text": "Hello from a copied session.", "lang": "en", "engine": engine}
            self.started[engine] = self.start(body)
        original = self.started[engine]
        ddb = self.admin.client("dynamodb")
        item = ddb.get_item(
            TableName=LOCAL_NAMES["SessionsTable"], Key={"session_id": {"S": original}}, ConsistentRead=True
        )["Item"]
        copy = secrets.token_hex(16)
        item.update(session_id={"S": copy}, playlist={"S": f"/media/hls/{copy}/audio.m3u8"}, **changes)
        ddb.put_item(TableName=LOCAL_NAMES["SessionsTable"], Item=item)
        self.words[copy] = self.words[original]
        self.admin.client("s3").put_object(
            Bucket=LOCAL_NAMES["MediaBucket"],
            Key=f"media/hls/{copy}/audio.m3u8",
            Body=self.stored(original, "audio.m3u8"),
            ContentType="application/vnd.apple.mpegurl",
        )
        return copy


def permitted(run: Run, ledger: set | None = None) -> Run:
    refusals = run.refusals()
    if refusals:
        raise PermissionMissing(
            f"{run.function} made calls its template policy does not allow:\n  " + "\n  ".join(refusals)
        )
    assert run.returncode == 0 and run.answer is not None, f"{run.function} failed:\n{run.stderr[-4000:]}"
    if ledger is not None:
        ledger |= run.used
    return run


@pytest.fixture(scope="module")
def stack(built, tmp_path_factory):
    """The storage server, set up without IAM checks (table, bucket, the generate function that start's
    async invoke reaches, the OpenAI key in SSM, an admin and one identity per function holding what the
    template grants it), then with every request checked."""
    google = GatedGoogle()
    openai = QuietOpenAi(LLM_ANSWER, token_delay=0.0)
    no_generate = LambdaWithoutGenerate()
    try:
        with storage_server_process() as url:
            setup = Identity("setup", "testing", "testing", url)  # unchecked: before enforce_iam
            requests.post(
                f"{url}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10
            ).raise_for_status()
            setup.client("dynamodb").create_table(
                TableName=LOCAL_NAMES["SessionsTable"],
                AttributeDefinitions=[{"AttributeName": "session_id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
            setup.client("s3").create_bucket(Bucket=LOCAL_NAMES["MediaBucket"])
            role = setup.client("iam").create_role(RoleName="generate", AssumeRolePolicyDocument="{}")
            setup.client("lambda").create_function(
                FunctionName=LOCAL_NAMES["GenerateFunction"],
                Runtime="python3.12",
                Role=role["Role"]["Arn"],
                Handler="app.handler",
                Code={"ZipFile": zipped_handler()},
            )
            setup.client("ssm").put_parameter(
                Name=parameter_value("OpenAiApiKeyParameter"), Value=OPENAI_KEY, Type="SecureString"
            )
            admin = create_identity(setup, "admin", ["*"])
            identities = {name: create_identity(setup, name, granted(name)) for name in FUNCTIONS}
            enforce_iam(url)
            yield Stack(url, admin, identities, google, openai, no_generate, tmp_path_factory.mktemp("lambda"))
    finally:
        google.release()
        google.stop()
        openai.stop()
        no_generate.stop()


def zipped_handler() -> bytes:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return package.getvalue()


# ---------------------------------------------------------------- events


def start_prompt() -> str:
    return json.loads(start_event()["body"])["prompt"]


def status_event(task_id: str) -> dict:
    event = json.loads((EVENTS / "status.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/audiostream/task-status/{task_id}/"
    event["pathParameters"] = {"task_id": task_id}
    return event


def failed_generation_event(*records: tuple[str, str]) -> dict:
    """events/failed-generation.json with one record per (session id, condition)."""
    event = json.loads((EVENTS / "failed-generation.json").read_text())
    (template,) = event["Records"]
    event["Records"] = []
    for number, (session_id, condition) in enumerate(records):
        body = json.loads(template["body"])
        body["requestPayload"] = {"session_id": session_id}
        body["requestContext"]["condition"] = condition
        if condition == "EventAgeExceeded":
            body.pop("responsePayload", None)
        event["Records"].append(
            {**template, "messageId": f"{template['messageId'][:-2]}{number:02d}", "body": json.dumps(body)}
        )
    return event


def status_of(stack: Stack, session_id: str, ledger: set | None = None) -> dict:
    run = stack.invoke("StatusFunction", status_event(session_id), ledger)
    assert run.answer["statusCode"] == 200, run.answer
    return json.loads(run.answer["body"])


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---------------------------------------------------------------- moto enforces what we rely on


# One call per action the template grants, made as the admin would see it succeed.
PROBES: dict[str, tuple[str, Callable]] = {
    "dynamodb:PutItem": (
        "dynamodb",
        lambda c: c.put_item(TableName=LOCAL_NAMES["SessionsTable"], Item={"session_id": {"S": "probe"}}),
    ),
    "dynamodb:GetItem": (
        "dynamodb",
        lambda c: c.get_item(TableName=LOCAL_NAMES["SessionsTable"], Key={"session_id": {"S": "probe"}}),
    ),
    "dynamodb:UpdateItem": (
        "dynamodb",
        lambda c: c.update_item(
            TableName=LOCAL_NAMES["SessionsTable"],
            Key={"session_id": {"S": "probe"}},
            UpdateExpression="SET probed = :yes",
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        ),
    ),
    "s3:PutObject": ("s3", lambda c: c.put_object(Bucket=LOCAL_NAMES["MediaBucket"], Key="media/hls/probe", Body=b"1")),
    "s3:GetObject": ("s3", lambda c: c.get_object(Bucket=LOCAL_NAMES["MediaBucket"], Key="media/hls/probe")),
    "s3:ListBucket": ("s3", lambda c: c.list_objects_v2(Bucket=LOCAL_NAMES["MediaBucket"], Prefix="media/hls/")),
    "lambda:InvokeFunction": (
        "lambda",
        lambda c: c.invoke(FunctionName=LOCAL_NAMES["GenerateFunction"], InvocationType="Event", Payload=b"{}"),
    ),
    "polly:DescribeVoices": ("polly", lambda c: c.describe_voices(Engine="standard")),
    "polly:SynthesizeSpeech": (
        "polly",
        lambda c: c.synthesize_speech(Text="Hi.", OutputFormat="pcm", SampleRate="16000", VoiceId="Joanna"),
    ),
    "ssm:GetParameter": ("ssm", lambda c: c.get_parameter(Name=parameter_value("OpenAiApiKeyParameter"))),
}


def refused(identity: Identity, action: str) -> bool:
    service, call = PROBES[action]
    try:
        call(identity.client(service))
    except ClientError as error:
        details = {
            "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
            "code": error.response["Error"].get("Code"),
            "message": error.response["Error"].get("Message"),
        }
        assert is_refusal(details), f"{action} failed, but not for want of a permission: {details}"
        return True
    return False


def test_the_storage_server_checks_every_action_the_template_grants(stack, monkeypatch):
    """Each action a function is granted is really checked by moto: without it the call is refused,
    with it (as moto names it) the call goes through. If a moto upgrade stops checking one, or
    starts naming it as IAM does, this says so."""
    monkeypatch.setattr(SigV4Auth, "add_auth", payload_hash_signing(SigV4Auth.add_auth))
    every_grant = set().union(*(granted(name) for name in FUNCTIONS))
    assert every_grant <= set(PROBES), f"no probe for {sorted(every_grant - set(PROBES))}"
    iam = stack.admin.client("iam")
    stack.admin.client("s3").put_object(Bucket=LOCAL_NAMES["MediaBucket"], Key="media/hls/probe", Body=b"0")
    nobody = create_identity(iam, "holds-nothing-useful", ["sts:GetCallerIdentity"])
    for action in sorted(every_grant):
        assert refused(nobody, action), f"moto let {action} through without the permission"
        holder = create_identity(iam, f"holds-{action.replace(':', '-')}", [action])
        assert not refused(holder, action), f"moto refused {action} to an identity holding it"
    for action, moto_name in MOTO_ACTION_NAMES.items():
        only_iam_name = create_identity(iam, f"iam-name-{action.replace(':', '-')}", [])
        iam.put_user_policy(
            UserName=only_iam_name.name,
            PolicyName="iam-name-only",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
            ),
        )
        assert refused(only_iam_name, action), f"moto now checks {action} by its IAM name: drop the {moto_name} alias"
    # The function identities hold no more than their grants: status may not write a session.
    assert refused(stack.identities["StatusFunction"], "dynamodb:UpdateItem")


# ---------------------------------------------------------------- every path, as its identity


def test_start_records_sessions_and_invokes_generate_asynchronously(stack):
    used: set[str] = set()
    answer = stack.invoke("StartFunction", EVENTS / "start.json", used)
    assert answer.answer["statusCode"] == 202, answer.answer
    session_id = json.loads(answer.answer["body"])["session_id"]
    item = stack.item(session_id)
    assert item["state"] == "PENDING" and item["engine"] == "gtts"
    empty = stack.playlist(session_id)
    assert empty.segments == [] and not empty.is_endlist
    (invoke,) = answer.calls_to("Invoke")  # moto's Lambda took the async invoke of generate
    assert invoke["params"]["FunctionName"] == template_environment("StartFunction")["GENERATE_FUNCTION_NAME"]
    assert invoke["params"]["InvocationType"] == "Event" and invoke["status"] == 202
    # The words ride in the event: the item, rewritten by every progress write, holds none.
    assert json.loads(invoke["params"]["Payload"]) == {"session_id": session_id, "text": start_prompt()}
    assert "text" not in item and "prompt" not in item

    polly = stack.invoke("StartFunction", EVENTS / "start-polly.json", used)  # checks the language with Polly
    assert polly.answer["statusCode"] == 202, polly.answer
    assert stack.item(json.loads(polly.answer["body"])["session_id"])["engine"] == "polly"

    refused_body = stack.invoke("StartFunction", start_event({"prompt": "   "}), used)
    assert refused_body.answer["statusCode"] == 400 and refused_body.calls == []
    assert json.loads(refused_body.answer["body"])["field"] == "prompt"

    # The same words again: the content cache has them, being made; start reads whose they are.
    again = stack.invoke("StartFunction", EVENTS / "start.json", used)
    assert again.answer["statusCode"] == 202 and json.loads(again.answer["body"])["cached"] is True
    assert again.calls_to("Invoke") == []  # it follows the first session's generation

    # generate cannot be invoked: the session is ended at once, its playlist closed, and start says 503.
    unstarted = stack.invoke("StartFunction", uncached_start(), used, **stack.without_generate())
    assert unstarted.answer["statusCode"] == 503 and unstarted.answer["headers"]["retry-after"] == "1"
    (put,) = unstarted.calls_to("PutItem")
    failed = put["params"]["Item"]["session_id"]["S"]
    assert stack.item(failed)["state"] == "FAILURE" and "could not be started" in stack.item(failed)["error"]
    assert stack.playlist(failed).is_endlist

    assert used == granted("StartFunction")


def test_status_reports_each_state_and_the_engines(stack):
    used: set[str] = set()
    unknown = stack.invoke("StatusFunction", status_event(secrets.token_hex(16)), used)
    assert unknown.answer["statusCode"] == 404 and json.loads(unknown.answer["body"])["field"] == "task_id"

    pending = stack.start()
    assert status_of(stack, pending, used)["state"] == "PENDING"

    # PROGRESS: generate holds in its first TTS request, with the session claimed.
    stack.google.hold_after(0)
    try:
        arrivals = stack.google.arrivals
        generating = stack.launch("GenerateFunction", stack.generate_event(pending))
        wait_for(lambda: stack.google.arrivals > arrivals or generating.process.poll() is not None, "generate's TTS")
        progress = status_of(stack, pending, used)
        assert progress["state"] == "PROGRESS" and progress["event"] == "chunk" and progress["progress"] < 100
    finally:
        stack.google.release()
    assert permitted(generating.wait()).answer == {"session_id": pending, "outcome": "SUCCESS"}
    success = status_of(stack, pending, used)
    assert success["state"] == "SUCCESS" and success["progress"] == 100 and success["segments"] > 0
    assert success["result"] == {
        "playlist": f"/media/hls/{pending}/audio.m3u8",
        "master": f"/media/hls/{pending}/master.m3u8",
        "transcript": f"/media/hls/{pending}/transcript.json",
        "download": f"/media/hls/{pending}/audio.m4a",
    }

    # A session that start could not hand to generate.
    run = stack.invoke("StartFunction", uncached_start(), **stack.without_generate())
    failed = run.calls_to("PutItem")[0]["params"]["Item"]["session_id"]["S"]
    failure = status_of(stack, failed, used)
    assert failure["state"] == "FAILURE" and "could not be started" in failure["error"]

    engines = stack.invoke("StatusFunction", EVENTS / "engines.json", used)
    assert engines.answer["statusCode"] == 200
    offered = {engine["name"]: engine for engine in json.loads(engines.answer["body"])["engines"]}
    assert set(offered) == set(template_environment("StatusFunction")["TTS_ENGINES"].split(","))
    assert "Joanna" in offered["polly"]["voices"] and "en" in {lang["code"] for lang in offered["polly"]["languages"]}

    assert used == granted("StatusFunction")


def test_generate_speaks_with_each_engine_and_ends_failures_cleanly(stack):
    used: set[str] = set()
    text = start_prompt()

    # gtts (the template's default engine), the prompt spoken as written (no model configured).
    spoken = stack.start()
    before = len(stack.google.requests)
    run = stack.invoke("GenerateFunction", stack.generate_event(spoken), used)
    assert run.answer == {"session_id": spoken, "outcome": "SUCCESS"}
    item = stack.item(spoken)
    assert item["state"] == "SUCCESS" and item["spoken_as"] == "prompt"
    playlist = stack.playlist(spoken)
    assert playlist.is_endlist and len(playlist.segments) == int(item["segments"]) > 0
    audio = stack.audio(spoken)
    assert audio["codec"] == "aac"
    assert audio["decoded_duration"] == pytest.approx(espeak_alone_duration(text), rel=0.05)
    assert [request["text"] for request in stack.google.requests[before:]] == [
        "Hello from audiostream.",
        "This sentence was spoken by the generate function.",
    ]
    # The layer's ffmpeg 7.0 wrote the stream, not this machine's ffmpeg 5.1 (whose muxer is Lavf59).
    assert b"Lavf61" in stack.stored(spoken, "init.mp4"), "init.mp4 was not written by the ffmpeg of the layer"

    # A second delivery of the same event (Lambda's async delivery is at-least-once) does nothing.
    again = stack.invoke("GenerateFunction", stack.generate_event(spoken), used)
    assert again.answer == {"session_id": spoken, "outcome": "skipped"}
    assert not again.calls_to("PutObject") and stack.item(spoken)["state"] == "SUCCESS"

    # The language model writes the words; its key comes from SSM (OPENAI_API_KEY_PARAMETER).
    with_the_model = {"OPENAI_MODEL": "local-story-model", "OPENAI_BASE_URL": stack.openai.base_url}
    expanded = stack.start()
    before, asked = len(stack.google.requests), len(stack.openai.requests)
    llm = stack.invoke(
        "GenerateFunction",
        stack.generate_event(expanded),
        used,
        **with_the_model,
    )
    assert llm.answer == {"session_id": expanded, "outcome": "SUCCESS"}
    (get_parameter,) = llm.calls_to("GetParameter")
    assert get_parameter["params"] == {"Name": parameter_value("OpenAiApiKeyParameter"), "WithDecryption": True}
    (request,) = stack.openai.requests[asked:]
    assert request["authorization"] == f"Bearer {OPENAI_KEY}" and request["model"] == "local-story-model"
    assert stack.item(expanded)["spoken_as"] == "llm"
    assert " ".join(request["text"] for request in stack.google.requests[before:]) == LLM_ANSWER
    assert stack.playlist(expanded).is_endlist

    # Polly: SynthesizeSpeech of the text, in the voice start chose for the language and stored with
    # the session (so generate need not look it up). (moto's Polly answers 4 samples of silence, too
    # short for a segment: the stream is closed and empty.)
    polly_session = stack.copy_of("polly")
    polly = stack.invoke("GenerateFunction", stack.generate_event(polly_session), used)
    assert polly.answer == {"session_id": polly_session, "outcome": "SUCCESS"}
    assert [call["operation"] for call in polly.calls if call["service"] == "polly"] == ["SynthesizeSpeech"]
    (synthesis,) = polly.calls_to("SynthesizeSpeech")
    assert synthesis["params"]["Text"] == stack.words[polly_session] and synthesis["params"]["VoiceId"]
    assert synthesis["params"]["OutputFormat"] == "pcm" and synthesis["params"]["Engine"] == "standard"
    item, playlist = stack.item(polly_session), stack.playlist(polly_session)
    assert item["state"] == "SUCCESS" and playlist.is_endlist and int(item["segments"]) == len(playlist.segments)

    # Polly with the language model: the model is told the language by Polly's name for it
    # (DescribeVoices), then its words are spoken.
    polly_llm_session = stack.copy_of("polly", text_given={"BOOL": False})
    polly_llm = stack.invoke(
        "GenerateFunction",
        stack.generate_event(polly_llm_session),
        used,
        **with_the_model,
    )
    assert polly_llm.answer == {"session_id": polly_llm_session, "outcome": "SUCCESS"}
    operations = [call["operation"] for call in polly_llm.calls if call["service"] == "polly"]
    assert operations[0] == "DescribeVoices" and set(operations[1:]) == {"SynthesizeSpeech"}, operations
    assert " ".join(call["params"]["Text"] for call in polly_llm.calls_to("SynthesizeSpeech")) == LLM_ANSWER

    # TTS fails: FAILURE with the reason, the playlist closed.
    failing = stack.copy_of("gtts")
    stack.google.fail_with = 500
    try:
        failed = stack.invoke("GenerateFunction", stack.generate_event(failing), used)
    finally:
        stack.google.fail_with = None
    assert failed.answer == {"session_id": failing, "outcome": "FAILURE"}
    item = stack.item(failing)
    assert item["state"] == "FAILURE" and "speech synthesis failed on chunk 1" in item["error"]
    assert stack.playlist(failing).is_endlist and stack.playlist(failing).segments == []

    # A session that runs longer than half a second reads its own state, to notice a cancel.
    slow = stack.copy_of("gtts")
    stack.google.delay = 1.0
    try:
        watched = stack.invoke("GenerateFunction", stack.generate_event(slow), used)
    finally:
        stack.google.delay = 0.0
    assert watched.answer == {"session_id": slow, "outcome": "SUCCESS"}
    looks = watched.calls_to("GetItem")
    assert looks and all(call["params"]["ProjectionExpression"] == "#state" for call in looks)

    malformed = stack.invoke("GenerateFunction", {"session": "?"}, used)
    assert malformed.answer["outcome"] == "rejected" and malformed.calls == []

    assert used == granted("GenerateFunction")


def test_the_drain_ends_sessions_whose_generate_invocation_died(stack):
    used: set[str] = set()
    never_started = stack.copy_of("gtts")

    # A generate killed mid-stream (as a Lambda timeout would): PROGRESS, segments listed, no ENDLIST.
    died = stack.start(
        {
            "text": "Lighthouses stand on rocky coasts and guide the ships that pass at night. "
            "Their keepers once lived in the towers.",
            "lang": "en",
        }
    )
    stack.google.hold_after(1)
    try:
        dying = stack.launch("GenerateFunction", stack.generate_event(died))
        listed = wait_for(lambda: stack.playlist(died).segments, "the first published segment")
        dying.kill()
    finally:
        stack.google.release()
    assert stack.item(died)["state"] == "PROGRESS" and not stack.playlist(died).is_endlist

    ended = stack.copy_of("gtts", state={"S": "SUCCESS"})
    event = failed_generation_event(
        (never_started, "EventAgeExceeded"),
        (died, "RetriesExhausted"),
        (ended, "RetriesExhausted"),
        ("not-a-session-id", "RetriesExhausted"),
    )
    run = stack.invoke("FailedGenerationsFunction", event, used)
    assert run.answer == {"batchItemFailures": []}

    item = stack.item(never_started)
    assert item["state"] == "FAILURE" and "too busy" in item["error"]
    assert stack.playlist(never_started).is_endlist and stack.playlist(never_started).segments == []
    item = stack.item(died)
    assert item["state"] == "FAILURE" and "Task timed out" in item["error"]
    closed = stack.playlist(died)
    assert closed.is_endlist and [s.uri for s in closed.segments][: len(listed)] == [s.uri for s in listed]
    assert stack.item(ended)["state"] == "SUCCESS" and not stack.playlist(ended).is_endlist  # left alone
    assert used == granted("FailedGenerationsFunction") - set(IMPLIED_GRANTS["FailedGenerationsFunction"])


def test_cancel_revokes_a_session_and_generate_stops_within_a_second(stack):
    used: set[str] = set()
    pending = stack.copy_of("gtts")
    revoked = stack.invoke("CancelFunction", cancel_event(pending), used)
    assert revoked.answer["statusCode"] == 202, revoked.answer
    assert json.loads(revoked.answer["body"])["state"] == "REVOKED" == stack.item(pending)["state"]
    assert stack.playlist(pending).is_endlist  # never claimed: the cancel closed it

    again = stack.invoke("CancelFunction", cancel_event(pending), used)
    assert again.answer["statusCode"] == 409 and json.loads(again.answer["body"])["state"] == "REVOKED"

    # In PROGRESS, generate held in its second TTS request: it notices the cancel while it waits.
    running = stack.start(
        {"text": "Lighthouses stand on rocky coasts. Their keepers once lived in the towers.", "lang": "en"}
    )
    stack.google.hold_after(1)
    try:
        generating = stack.launch("GenerateFunction", stack.generate_event(running))
        wait_for(lambda: stack.playlist(running).segments, "the first published segment")
        cancelled = stack.invoke("CancelFunction", cancel_event(running), used)
        answered = time.monotonic()
        assert cancelled.answer["statusCode"] == 202, cancelled.answer
        ended = permitted(generating.wait())
        took = time.monotonic() - answered
    finally:
        stack.google.release()
    assert ended.answer == {"session_id": running, "outcome": "REVOKED"}
    assert took < 3  # a second, plus the built function's own exit, on a busy machine
    closed = stack.playlist(running)
    assert closed.is_endlist and closed.segments and stack.item(running)["state"] == "REVOKED"
    assert used == granted("CancelFunction")


def test_a_deployment_with_the_defaults_offers_no_polly_and_runs_without_any_polly_grant(stack):
    """The defaults (EnablePolly=false): each function runs with that deployment's environment, as an
    identity holding that deployment's smaller grants; Polly is neither offered nor called, and a gtts
    session is started and generated."""
    defaults: dict[str, str] = {}
    assert template_environment("StatusFunction", defaults)["TTS_ENGINES"] == "gtts"
    assert not [action for name in FUNCTIONS for action in granted(name, defaults) if action.startswith("polly:")]
    identities = {
        name: create_identity(stack.admin, f"defaults-{name}", granted(name, defaults))
        for name in ("StartFunction", "StatusFunction", "GenerateFunction")
    }

    def run(name: str, event: dict | Path) -> Run:
        return permitted(stack.run(name, event, identities[name], defaults))

    engines = run("StatusFunction", EVENTS / "engines.json")
    assert engines.answer["statusCode"] == 200
    assert [engine["name"] for engine in json.loads(engines.answer["body"])["engines"]] == ["gtts"]

    polly = run("StartFunction", EVENTS / "start-polly.json")
    assert polly.answer["statusCode"] == 400 and json.loads(polly.answer["body"])["field"] == "engine"
    assert polly.calls == []

    started = run("StartFunction", uncached_start())
    assert started.answer["statusCode"] == 202, started.answer
    (invoke,) = started.calls_to("Invoke")
    event = json.loads(invoke["params"]["Payload"])
    generated = run("GenerateFunction", event)
    assert generated.answer == {"session_id": event["session_id"], "outcome": "SUCCESS"}
    assert stack.item(event["session_id"])["engine"] == "gtts" and stack.playlist(event["session_id"]).is_endlist
    calls = engines.calls + polly.calls + started.calls + generated.calls
    assert not [call for call in calls if call["service"] == "polly"]


# ---------------------------------------------------------------- the harness bites


def _start(stack: Stack) -> tuple[dict, dict]:
    return uncached_start(), {}


def _start_polly(stack: Stack) -> tuple[dict, dict]:
    return json.loads((EVENTS / "start-polly.json").read_text()), {}


def _start_unstarted(stack: Stack) -> tuple[dict, dict]:
    return uncached_start(), stack.without_generate()


def _start_again(stack: Stack) -> tuple[dict, dict]:
    """A start of words already started: start reads the content cache's entry and its source."""
    words = start_event({"text": f"Said twice {secrets.token_hex(4)}.", "lang": "en"})
    assert stack.invoke("StartFunction", words).answer["statusCode"] == 202  # its key claimed
    return words, {}


def uncached_start() -> dict:
    """events/start.json, generated anew whatever the content cache holds."""
    body = json.loads(start_event()["body"])
    return start_event({**body, "cache": False})


def _status(stack: Stack) -> tuple[dict, dict]:
    return status_event(stack.copy_of("gtts")), {}


def _engines(stack: Stack) -> tuple[dict, dict]:
    return json.loads((EVENTS / "engines.json").read_text()), {}


def _generate(stack: Stack) -> tuple[dict, dict]:
    return stack.generate_event(stack.copy_of("gtts")), {}


def _generate_polly(stack: Stack) -> tuple[dict, dict]:
    return stack.generate_event(stack.copy_of("polly")), {}


def _generate_llm(stack: Stack, engine: str = "gtts") -> tuple[dict, dict]:
    session_id = stack.copy_of(engine, text_given={"BOOL": False})
    return stack.generate_event(session_id), {
        "OPENAI_MODEL": "local-story-model",
        "OPENAI_BASE_URL": stack.openai.base_url,
    }


def _generate_polly_llm(stack: Stack) -> tuple[dict, dict]:
    return _generate_llm(stack, "polly")


def _cancel_pending(stack: Stack) -> tuple[dict, dict]:
    return cancel_event(stack.copy_of("gtts")), {}


def _cancel_ended(stack: Stack) -> tuple[dict, dict]:
    return cancel_event(stack.copy_of("gtts", state={"S": "SUCCESS"})), {}


def _generate_long_enough_to_look_for_a_cancel(stack: Stack) -> tuple[dict, dict]:
    stack.google.delay = 1.0  # reset by the test; the watch looks every half second
    return _generate(stack)


def _drain(stack: Stack) -> tuple[dict, dict]:
    return failed_generation_event((stack.copy_of("gtts"), "RetriesExhausted")), {}


# Grants that no call makes but that change what S3 answers, which moto does not imitate.
IMPLIED_GRANTS = {
    "FailedGenerationsFunction": {
        "s3:ListBucket": "makes S3 answer a GetObject of a missing playlist 404 (moto always does), not 403",
    },
}

# A path that needs each granted action, to run without it.
PATHS_NEEDING = {
    ("StartFunction", "dynamodb:PutItem"): _start,
    ("StartFunction", "s3:PutObject"): _start,
    ("StartFunction", "lambda:InvokeFunction"): _start,
    ("StartFunction", "dynamodb:UpdateItem"): _start_unstarted,
    ("StartFunction", "dynamodb:GetItem"): _start_again,
    ("StartFunction", "polly:DescribeVoices"): _start_polly,
    ("StatusFunction", "dynamodb:GetItem"): _status,
    ("StatusFunction", "polly:DescribeVoices"): _engines,
    ("CancelFunction", "dynamodb:UpdateItem"): _cancel_pending,
    ("CancelFunction", "dynamodb:GetItem"): _cancel_ended,
    ("CancelFunction", "s3:PutObject"): _cancel_pending,
    ("GenerateFunction", "dynamodb:GetItem"): _generate_long_enough_to_look_for_a_cancel,
    ("GenerateFunction", "dynamodb:UpdateItem"): _generate,
    ("GenerateFunction", "s3:PutObject"): _generate,
    ("GenerateFunction", "ssm:GetParameter"): _generate_llm,
    ("GenerateFunction", "polly:DescribeVoices"): _generate_polly_llm,  # the language's name for the model
    ("GenerateFunction", "polly:SynthesizeSpeech"): _generate_polly,
    ("FailedGenerationsFunction", "dynamodb:GetItem"): _drain,
    ("FailedGenerationsFunction", "dynamodb:UpdateItem"): _drain,
    ("FailedGenerationsFunction", "s3:GetObject"): _drain,
    ("FailedGenerationsFunction", "s3:PutObject"): _drain,
}
GRANTS = [
    (name, action)
    for name in FUNCTIONS
    for action in sorted(granted(name))
    if action not in IMPLIED_GRANTS.get(name, {})
]


@pytest.mark.parametrize(("name", "action"), GRANTS, ids=[f"{name}-without-{action}" for name, action in GRANTS])
def test_a_function_without_one_of_its_grants_fails_the_run(stack, name, action):
    """The refusal is caught whatever the handler makes of it: an error answer, a batch item failure,
    a FAILURE state, a warning and a shorter engine list, or a progress write given up."""
    assert (name, action) in PATHS_NEEDING, f"no path known to need {action} in {name}: add one, or drop the grant"
    event, env = PATHS_NEEDING[(name, action)](stack)
    short = f"{name}-without-{action.replace(':', '-')}-{secrets.token_hex(3)}"
    identity = create_identity(stack.admin, short[:64], granted(name) - {action})
    try:
        run = stack.run(name, event, identity, **env)
    finally:
        stack.google.delay = 0.0
    with pytest.raises(PermissionMissing) as missing:
        permitted(run)
    assert f"\n  {action} -> HTTP 403" in str(missing.value), str(missing.value)


# ---------------------------------------------------------------- the build itself


def test_a_function_built_without_its_layer_fails_to_import(stack, tmp_path):
    """The harness sees only what Lambda would: without the core layer, nothing imports."""
    empty_layer = tmp_path / "empty-layer"
    empty_layer.mkdir()
    run = stack.launch("StatusFunction", status_event("0" * 32), layer=empty_layer).wait()
    assert run.returncode != 0 and run.answer is None
    assert "ModuleNotFoundError: No module named" in run.stderr


def test_the_layers_hold_what_the_functions_need(built):
    ffmpeg = built / "FfmpegLayer" / "bin" / "ffmpeg"
    assert os.access(ffmpeg, os.X_OK)
    version = subprocess.run([str(ffmpeg), "-hide_banner", "-version"], capture_output=True, text=True).stdout
    assert version.startswith("ffmpeg version 7.0.2-static")
    core = built / "CoreLayer" / "python"
    for package in (
        "audiostream",
        "fastapi",
        "mangum",
        "gtts",
        "m3u8",
        "aws_lambda_powertools",
        "boto3",
        "openai",
        "numpy",
    ):
        assert (core / package).is_dir(), f"{package} is missing from the core layer"
    neural = built / "NeuralVoiceLayer" / "python"
    assert (neural / "hibari" / "assets" / "hibari.onnx").is_file() and (neural / "onnxruntime" / "capi").is_dir()
    # Every pinned requirement, at its pinned version; the neural layer holds its own two only (numpy
    # comes from the core layer, onnxruntime's model tools' dependencies are never imported).
    for layer, folder in (("core", core), ("neural", neural)):
        installed = {path.name.lower() for path in folder.glob("*.dist-info")}
        expected = set()
        for line in (REPO / "layers" / layer / "requirements.txt").read_text().splitlines():
            requirement = line.split("#")[0].strip()
            if requirement:
                name, version = re.sub(r"\[.*\]", "", requirement).split("==")
                expected.add(f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}.dist-info")
        assert expected <= installed, f"missing from the {layer} layer: {sorted(expected - installed)}"
        if layer == "neural":
            assert installed == expected, f"the neural layer holds more than its requirements: {sorted(installed)}"
    # Nothing that only a build or a type checker reads (see the layers' Makefiles).
    for folder in (core, neural):
        shipped = [path for path in folder.rglob("*") if path.name in ("__pycache__", "tests")]
        shipped += [*folder.rglob("*.pyi"), *folder.glob("bin")]
        assert not shipped, f"left in the layer: {[str(path.relative_to(built)) for path in shipped[:10]]}"
    assert set(FUNCTIONS) == set(resources("AWS::Serverless::Function"))
    for name in FUNCTIONS:
        assert (built / name / "app.py").is_file(), f"{name} was not built"
        assert function(name)["Handler"] == "app.handler"


DEV_ONLY = ("moto", "devstack", "werkzeug", "pytest", "uvicorn")


def test_the_core_layer_holds_nothing_of_the_dev_stack(built):
    core = built / "CoreLayer" / "python"
    present = {path.name.split("-")[0].lower() for path in core.iterdir()}
    assert not present & {"moto", "devstack", "werkzeug", "pytest", "_pytest", "uvicorn"}, sorted(present)
    sources = sorted((core / "audiostream").rglob("*.py"))
    assert sources, "no audiostream sources in the built layer"
    imports = {}
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for imported in names:
                if imported.split(".")[0] in DEV_ONLY:
                    imports.setdefault(str(source.relative_to(core)), []).append(imported)
    assert imports == {}, f"the layer's audiostream imports dev-only packages: {imports}"


# ---------------------------------------------------------------- the size limit, and the neural voice from its layer

# Lambda's limit for a function and all its layers together, unzipped: 250 MB, as it counts them.
UNZIPPED_LIMIT = 262_144_000


def unzipped_size(folder: Path) -> int:
    """What the folder weighs once Lambda has unzipped it: the bytes of its files."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def built_layers(name: str, parameters: Parameters) -> list[str]:
    """The logical ids of the layers the function ``name`` gets in this deployment, in Lambda's order."""
    return [layer["Ref"] for layer in function_layers(name, parameters)]


def test_every_function_with_its_layers_fits_lambdas_unzipped_limit(built):
    sizes = {folder.name: unzipped_size(folder) for folder in built.iterdir() if folder.is_dir()}
    report, too_big = {}, []
    lines = [f"unzipped size of each function with its layers (limit {UNZIPPED_LIMIT:,} bytes):"]
    for label, parameters in (("EnableNeuralVoice=false", {}), ("EnableNeuralVoice=true", NEURAL)):
        for name in FUNCTIONS:
            parts = {name: sizes[name]} | {layer: sizes[layer] for layer in built_layers(name, parameters)}
            total = sum(parts.values())
            report.setdefault(label, {})[name] = {"total": total, **parts}
            shown = ", ".join(f"{part} {size / 1e6:.1f}" for part, size in parts.items())
            lines.append(f"  {label:24} {name:26} {total / 1e6:6.1f} MB  ({shown})")
            if total >= UNZIPPED_LIMIT:
                too_big.append(f"{name} ({label}): {total:,} bytes")
    print("\n".join(lines))
    (REPO / "test-output").mkdir(exist_ok=True)
    (REPO / "test-output" / "function-sizes.json").write_text(json.dumps(report, indent=2) + "\n")
    assert not too_big, "over Lambda's 250 MB unzipped:\n" + "\n".join([*too_big, *lines])


NEURAL_RUN = """
import json, sys, time
started = time.monotonic()
from audiostream.speech.engines.hibari import HibariEngine
engine = HibariEngine()
engine.warm()
warmed = time.monotonic() - started
pcm = engine.synthesize("Hello from the layer.", "en", None)
import hibari, numpy, onnxruntime
print(json.dumps({
    "pcm_bytes": len(pcm),
    "warm_seconds": warmed,
    "files": {module.__name__: module.__file__ for module in (hibari, numpy, onnxruntime)},
    "path": sys.path,
}))
"""


def run_with_only_the_layers(built: Path, name: str, parameters: Parameters, code: str, tmp_path: Path, **env: str):
    """``code`` in a python that sees the standard library, the built function's folder and its layers'
    ``python/`` folders (Lambda's /var/task and /opt/python), nothing else; its last line of output as
    JSON."""
    folders = [built / name, *(built / layer / "python" for layer in built_layers(name, parameters))]
    environment = {
        "PYTHONPATH": os.pathsep.join(str(folder) for folder in folders if folder.is_dir()),
        "PATH": "/nonexistent",
        "HOME": str(tmp_path),  # no voice files of this machine's user
        "LANG": "C.UTF-8",
        "TMPDIR": str(tmp_path),
        **env,
    }
    # -S: no site-packages; bytecode goes to a cache outside the build.
    command = [BASE_PYTHON, "-S", "-X", f"pycache_prefix={tmp_path / 'pycache'}", "-c", code]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_built_neural_layer_speaks_with_nothing_but_the_layers(built, tmp_path):
    """The pruned layers (core without numpy's extras, neural without onnxruntime's tools and C API
    library, installed without their dependencies) still speak: the proof that nothing it needs was
    left out."""
    answer = run_with_only_the_layers(built, "GenerateFunction", NEURAL, NEURAL_RUN, tmp_path)
    seconds = answer["pcm_bytes"] / 2 / 24000  # 16-bit mono at 24 kHz
    assert seconds > 0.5, answer
    assert answer["files"]["hibari"].startswith(str(built / "NeuralVoiceLayer" / "python")), answer
    assert answer["files"]["onnxruntime"].startswith(str(built / "NeuralVoiceLayer" / "python")), answer
    assert answer["files"]["numpy"].startswith(str(built / "CoreLayer" / "python")), answer
    assert not [entry for entry in answer["path"] if "site-packages" in entry], answer["path"]
    warm = answer["warm_seconds"]
    print(f"neural voice from the built layers: {seconds:.2f} s of audio; imported, loaded and warmed in {warm:.2f} s")


ENGINES_RUN = """
import json
from audiostream.api.catalog import describe_engines
from audiostream.config import get_settings
from audiostream.speech.engines import default_engine
settings = get_settings()
catalog = describe_engines(settings)
print(json.dumps({
    "engines": {engine["name"]: engine["default_for"] for engine in catalog["engines"]},
    "en": default_engine("en", settings),
    "fr": default_engine("fr", settings),
}))
"""


@pytest.mark.parametrize("parameters", [{}, NEURAL], ids=["default", "neural-voice"])
def test_start_status_and_generate_agree_on_the_neural_voice(built, tmp_path, parameters):
    """Each function that picks, lists or speaks engines, with its layers and the template's environment
    for the deployment, offers the same engines and picks the same one for a request that names none:
    the neural voice for English when it is enabled (its layer is there wherever it is offered), gTTS
    otherwise. (The drain function uses no engine.)"""
    neural = bool(parameters)
    seen = {}
    for name in ("StartFunction", "StatusFunction", "GenerateFunction"):
        environment = template_environment(name, parameters)
        answer = run_with_only_the_layers(built, name, parameters, ENGINES_RUN, tmp_path, **environment)
        seen[name] = answer
        assert ("hibari" in answer["engines"]) == neural, (name, answer)
        assert answer["en"] == ("hibari" if neural else "gtts"), (name, answer)
        assert answer["fr"] == "gtts", (name, answer)
        if neural:
            assert "en" in answer["engines"]["hibari"] and "en" not in answer["engines"]["gtts"], (name, answer)
    assert len({json.dumps(answer, sort_keys=True) for answer in seen.values()}) == 1, seen
