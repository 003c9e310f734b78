"""The functions' handlers called with the event files that ``sam local invoke -e`` uses, against moto."""

import base64
import json
import queue
from pathlib import Path

import m3u8
import pytest

from audiostream import aws
from audiostream.api.invoker import install_invoker
from audiostream.config import get_settings
from audiostream.store.sessions import SessionStore, State
from devstack.functions import load_handler

from support.faults import fail_requests

EVENTS = Path(__file__).resolve().parents[1] / "events"


def event(name: str, **changes) -> dict:
    data = json.loads((EVENTS / name).read_text())
    data.update(changes)
    return data


def status_event(task_id: str) -> dict:
    data = event("status.json")
    data["rawPath"] = data["requestContext"]["http"]["path"] = f"/audiostream/task-status/{task_id}/"
    data["pathParameters"] = {"task_id": task_id}
    return data


@pytest.fixture
def invoked(moto):
    """The events start hands to generate, captured instead of run."""
    received = queue.Queue()

    class Capture:
        def invoke(self, generate_event: dict) -> None:
            received.put(generate_event)

    install_invoker(Capture())
    yield received
    install_invoker(None)


@pytest.fixture
def start(moto):
    return load_handler("start")


@pytest.fixture
def status(moto):
    return load_handler("status")


def sessions_in_table(settings) -> list[dict]:
    """The table's session items (the content cache's entries, ``cache#...``, are not sessions)."""
    items = aws.dynamodb().scan(TableName=settings.storage.sessions_table)["Items"]
    return [item for item in items if not item["session_id"]["S"].startswith("cache#")]


def answer_json(answer: dict) -> dict:
    assert answer["headers"]["content-type"] == "application/json"
    return json.loads(answer["body"])


def test_start_answers_202_records_pending_writes_an_empty_playlist_and_invokes_generate(
    start, invoked, sessions, media, settings, lambda_context
):
    answer = start(event("start.json"), lambda_context)
    assert answer["statusCode"] == 202
    body = answer_json(answer)
    session_id = body["session_id"]
    assert body == {
        "session_id": session_id,
        "task_id": session_id,
        "playlist": f"/media/hls/{session_id}/audio.m3u8",
        "master": f"/media/hls/{session_id}/master.m3u8",
        "status_url": f"/audiostream/task-status/{session_id}/",
        "cached": False,
    }
    stored = sessions.get(session_id)
    assert stored.state is State.PENDING and not stored.text_given

    def stored_playlist(url):
        playlist = aws.s3().get_object(Bucket=settings.storage.media_bucket, Key=url.lstrip("/"))
        assert playlist["ContentType"] == "application/vnd.apple.mpegurl"
        assert playlist["CacheControl"] == "max-age=1"
        return m3u8.loads(playlist["Body"].read().decode())

    # Every playlist loads at once: the audio's and its subtitle twin, empty, and the one that names both.
    folder = body["playlist"].rsplit("/", 1)[0]
    for media_playlist in (stored_playlist(body["playlist"]), stored_playlist(f"{folder}/subs.m3u8")):
        assert media_playlist.playlist_type == "event" and media_playlist.segments == []
        assert not media_playlist.is_endlist
    master = stored_playlist(body["master"])
    assert [variant.uri for variant in master.playlists] == ["audio.m3u8"]
    assert [rendition.uri for rendition in master.media] == ["subs.m3u8"]
    assert master.media[0].language == "en"

    # The words go to generate in its event; the item, rewritten by every progress write, holds none.
    assert invoked.get(timeout=5) == {
        "session_id": session_id,
        "text": "Hello from audiostream. This sentence was spoken by the generate function.",
    }


def test_start_accepts_a_base64_body_as_api_gateway_may_send_it(start, invoked, lambda_context):
    raw = json.dumps({"text": "Encoded."}).encode()
    answer = start(event("start.json", body=base64.b64encode(raw).decode(), isBase64Encoded=True), lambda_context)
    assert answer["statusCode"] == 202


@pytest.mark.parametrize(
    "raw, status, field",
    [('{"lang": "en"}', 400, "prompt"), ("{oops", 400, "body"), ('{"prompt": "Hi", "lang": "zz"}', 400, "lang")],
)
def test_start_refuses_bad_input_with_json_naming_the_field(start, invoked, lambda_context, raw, status, field):
    answer = start(event("start.json", body=raw), lambda_context)
    assert answer["statusCode"] == status
    assert answer_json(answer)["field"] == field
    assert invoked.empty()


def test_start_ends_the_session_as_failure_when_generate_cannot_be_invoked(
    start, lambda_context, settings, monkeypatch
):
    from audiostream.api.invoker import get_invoker
    from audiostream.config import get_settings

    # A real async Lambda invoke (moto's Lambda API) of a function that does not exist.
    monkeypatch.setenv("GENERATE_INVOKER", "lambda")
    monkeypatch.setenv("GENERATE_FUNCTION_NAME", "no-such-function")
    get_settings.cache_clear()
    get_invoker.cache_clear()
    answer = start(event("start.json"), lambda_context)
    assert answer["statusCode"] == 503
    assert answer["headers"]["retry-after"] == "1"
    assert "try again" in answer_json(answer)["error"]
    items = sessions_in_table(settings)
    assert [item["state"]["S"] for item in items] == ["FAILURE"]
    assert "could not be started" in items[0]["error"]["S"]
    playlist = aws.s3().get_object(
        Bucket=settings.storage.media_bucket, Key=f"media/hls/{items[0]['session_id']['S']}/audio.m3u8"
    )
    assert m3u8.loads(playlist["Body"].read().decode()).is_endlist


S3_DOWN = b"<Error><Code>InternalError</Code><Message>down</Message></Error>"
DYNAMODB_DOWN = b'{"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "down"}'


def test_a_playlist_that_cannot_be_written_at_start_ends_the_session_unstarted(
    start, invoked, sessions, settings, lambda_context
):
    # The item and the playlists are written side by side: the item exists, a playlist does not.
    failures = fail_requests("PutObject", times=1000, status=500, body=S3_DOWN)
    answer = start(event("start.json"), lambda_context)
    assert answer["statusCode"] == 503 and "try again" in answer_json(answer)["error"]
    assert failures["sent"] >= 3 * 4  # each of the three playlists, with the client's retries
    items = sessions_in_table(settings)
    assert [item["state"]["S"] for item in items] == ["FAILURE"]
    assert invoked.empty()


def test_an_item_that_cannot_be_written_at_start_answers_500_and_invokes_nothing(
    start, invoked, settings, lambda_context
):
    fail_requests("PutItem", times=1000, status=500, body=DYNAMODB_DOWN)
    answer = start(event("start.json"), lambda_context)
    assert answer["statusCode"] == 500 and "logs have the details" in answer_json(answer)["error"]
    assert sessions_in_table(settings) == []
    assert invoked.empty()


def test_status_of_a_pending_session(start, status, invoked, lambda_context):
    session_id = answer_json(start(event("start.json"), lambda_context))["session_id"]
    answer = status(status_event(session_id), lambda_context)
    assert answer["statusCode"] == 200
    assert answer["headers"]["cache-control"] == "no-store"
    body = answer_json(answer)
    assert body["state"] == "PENDING" and body["status"] == "Task is pending"
    assert body["task_id"] == session_id and body["playlist"].endswith(f"{session_id}/audio.m3u8")


@pytest.mark.parametrize(
    "task_id", ["0123456789abcdef0123456789abcdef", "not-an-id", "..%2F..%2Fetc", "x" * 1000, "' OR 1=1 --"]
)
def test_status_of_an_unknown_or_malformed_id_is_404_json(status, lambda_context, task_id):
    answer = status(status_event(task_id), lambda_context)
    assert answer["statusCode"] == 404
    body = answer_json(answer)
    if "%2F" in task_id:  # decoded into a path that matches no route at all
        assert body == {"error": "Not Found"}
    else:
        assert body["field"] == "task_id" and "no task" in body["error"]


def test_unknown_routes_answer_json(status, lambda_context):
    data = status_event("0123456789abcdef0123456789abcdef")
    data["rawPath"] = data["requestContext"]["http"]["path"] = "/audiostream/nothing-here/"
    answer = status(data, lambda_context)
    assert answer["statusCode"] == 404
    assert "error" in answer_json(answer)


def test_generate_runs_the_session_of_its_event(sessions, media, settings, lambda_context):
    from audiostream.store.sessions import Session

    session_id = event("generate.json")["session_id"]
    sessions.create(
        Session(
            session_id=session_id,
            lang="en",
            engine="espeak",
            playlist=media.playlist_url(session_id),
        )
    )
    generate = load_handler("generate")
    assert generate(event("generate.json"), lambda_context) == {"session_id": session_id, "outcome": "SUCCESS"}
    assert sessions.get(session_id).state is State.SUCCESS
    # A second delivery of the same event does nothing.
    assert generate(event("generate.json"), lambda_context) == {"session_id": session_id, "outcome": "skipped"}


@pytest.mark.parametrize("bad_event", [{}, {"session_id": 5}, {"session_id": "../../x"}, []])
def test_generate_drops_a_malformed_event_without_raising(moto, lambda_context, bad_event):
    assert load_handler("generate")(bad_event, lambda_context)["outcome"] == "rejected"


def engines_event() -> dict:
    data = status_event("0123456789abcdef0123456789abcdef")
    data["rawPath"] = data["requestContext"]["http"]["path"] = "/audiostream/engines/"
    data["routeKey"] = data["requestContext"]["routeKey"] = "GET /audiostream/engines/"
    data.pop("pathParameters")
    return data


def test_engines_lists_what_start_accepts(status, lambda_context):
    answer = status(engines_event(), lambda_context)
    assert answer["statusCode"] == 200
    body = answer_json(answer)
    assert (body["default_engine"], body["default_lang"], body["max_text_chars"]) == ("espeak", "en", 5000)
    engines = {engine["name"]: engine for engine in body["engines"]}
    assert set(engines) == {"espeak", "gtts", "hibari"}
    assert engines["hibari"]["voices"] == ["heart"]
    assert {language["code"] for language in engines["hibari"]["languages"]} == {"en", "en-us"}
    # TTS_ENGINE=espeak: every language espeak-ng speaks is its own when a request names no engine.
    assert engines["hibari"]["default_for"] == [] and "en" in engines["espeak"]["default_for"]
    espeak_languages = {language["code"]: language["name"] for language in engines["espeak"]["languages"]}
    assert espeak_languages["en-gb"] == "English (Great Britain)" and espeak_languages["en"] == "English"
    assert "f3" in engines["espeak"]["voices"] and "co.uk" in engines["gtts"]["voices"]
    names = [language["name"] for language in engines["gtts"]["languages"]]
    assert names == sorted(names)


def test_a_request_without_an_engine_gets_the_first_of_tts_engine_that_speaks_its_language(
    start, status, invoked, lambda_context, settings, monkeypatch
):
    monkeypatch.setenv("TTS_ENGINE", "hibari,espeak")
    get_settings.cache_clear()
    spoken = {}
    for lang in ("en", "en-us", "fr", "en-gb"):
        body = json.dumps({"text": "Hello there.", "lang": lang})
        answer = start(event("start.json", body=body), lambda_context)
        assert answer["statusCode"] == 202, answer
        stored = SessionStore.from_settings(get_settings()).get(answer_json(answer)["session_id"])
        spoken[lang] = (stored.engine, stored.voice)
    assert spoken == {
        "en": ("hibari", "heart"),
        "en-us": ("hibari", "heart"),
        "fr": ("espeak", None),
        "en-gb": ("espeak", None),
    }
    catalog = answer_json(status(engines_event(), lambda_context))
    default_for = {engine["name"]: engine["default_for"] for engine in catalog["engines"]}
    assert default_for["hibari"] == ["en", "en-us"]
    assert "fr" in default_for["espeak"] and "en" not in default_for["espeak"]
    assert catalog["default_engine"] == "hibari"


def test_an_unexpected_fault_still_answers_json(start, invoked, lambda_context, settings):
    aws.dynamodb().delete_table(TableName=settings.storage.sessions_table)  # storage gone from under the function
    answer = start(event("start.json"), lambda_context)
    assert answer["statusCode"] == 500
    assert answer_json(answer) == {"error": "internal error; the service's logs have the details"}
    assert invoked.empty()


def test_without_captions_start_writes_the_audio_playlist_alone(captions_off, start, invoked, lambda_context):
    settings = captions_off
    answer = start(event("start.json"), lambda_context)
    body = answer_json(answer)
    assert answer["statusCode"] == 202 and "master" not in body
    listing = aws.s3().list_objects_v2(Bucket=settings.storage.media_bucket, Prefix=f"media/hls/{body['session_id']}/")
    assert [item["Key"].rsplit("/", 1)[1] for item in listing["Contents"]] == ["audio.m3u8"]
