"""What the worst requests cost: hostile texts in start and before generate speaks, the audio budget,
the size of every DynamoDB write, and the words the status reports.

CPU is measured with ``time.thread_time()`` (the CPU of the calling thread only: start's handler and
generate's speaking loop run in it), never with wall time, so a busy machine changes nothing.
"""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from audiostream import aws
from audiostream.api.invoker import install_invoker
from audiostream.api.status import describe_status
from audiostream.config import get_settings
from audiostream.generation.invocation import generate
from audiostream.store.sessions import SessionUpdate, State
from devstack.functions import load_handler

from support.audio import espeak_alone_duration
from support.dynamodb_size import item_size
from support.engines import RecordingEngine
from support.events import start_event
from support.paths import read_text
from support.sessions import RecordingInvoker, playlist_of, published_audio, started

LIMIT = 5000
HOSTILE = {
    "runs of dots": "." * LIMIT,
    "!? pairs": "!?" * (LIMIT // 2),
    "dots then a letter": "." * (LIMIT - 1) + "a",
    '"no. " repeated': "no. " * (LIMIT // 4),
    "one 5,000-character word": "a" * LIMIT,
    "digits": ("9,999,999,999,999 " * LIMIT)[:LIMIT],
    "CJK": ("中文字符测试" * LIMIT)[:LIMIT],
}
ORDINARY = (read_text("three_paragraphs.txt") * 6)[:LIMIT]
NOTHING_TO_SPEAK = {"runs of dots", "!? pairs"}


@pytest.fixture
def invocations(moto):
    """The events start hands to generate, kept instead of run."""
    invoker = RecordingInvoker()
    install_invoker(invoker)
    yield invoker.events
    install_invoker(None)


@pytest.fixture
def start(invocations):
    return load_handler("start")


def cpu_of_start(start, lambda_context, text: str) -> tuple[float, dict]:
    before = time.thread_time()
    answer = start(start_event({"text": text, "lang": "en", "engine": "espeak"}), lambda_context)
    return time.thread_time() - before, answer


@pytest.mark.parametrize("name", HOSTILE)
def test_start_answers_a_hostile_text_for_what_an_ordinary_one_costs(name, start, lambda_context):
    cpu_of_start(start, lambda_context, "Warm up.")  # the first request pays for imports and clients
    ordinary, _ = cpu_of_start(start, lambda_context, ORDINARY)
    hostile, answer = cpu_of_start(start, lambda_context, HOSTILE[name])

    figures = f"{name}: {hostile * 1000:.1f} CPU-ms; an ordinary text of {LIMIT} chars: {ordinary * 1000:.1f}"
    assert len(HOSTILE[name]) == len(ORDINARY) == LIMIT
    assert hostile < 0.2, figures
    if name in NOTHING_TO_SPEAK:
        assert answer["statusCode"] == 400, answer
        body = json.loads(answer["body"])
        assert body["field"] == "text" and "nothing to speak" in body["error"]
    else:
        assert answer["statusCode"] == 202, answer


@pytest.mark.parametrize("name", HOSTILE)
def test_generate_speaks_or_refuses_a_hostile_text_within_a_cpu_second(name, settings, sessions, media, offer_engine):
    engine = RecordingEngine(settings)
    engine.stop_after = 0  # the first request is where speaking begins: the test ends there
    offer_engine("recording", lambda _settings: engine)
    event = started(settings, sessions, media, HOSTILE[name], engine="recording")

    before = time.thread_time()
    assert generate(event)["outcome"] == "FAILURE"
    cpu = (engine.thread_cpu_at_first_request or time.thread_time()) - before

    assert cpu < 1.0, f"{name}: {cpu:.3f} CPU-s before generate spoke or refused"
    error = sessions.get(event["session_id"]).error
    if name in NOTHING_TO_SPEAK:
        assert engine.texts == [] and error == "the request had nothing to speak"
    else:
        (first,) = engine.texts
        assert 0 < len(first) <= settings.speech.first_chunk_max_chars and first in " ".join(HOSTILE[name].split())


def test_the_audio_budget_ends_a_cjk_text_at_the_limit_with_the_audio_playable(
    settings, sessions, media, offer_engine, monkeypatch
):
    # espeak-ng's English voice reads each CJK character as "Chinese letter": 5,000 of them made
    # 1,672 s of speech before there was a budget.
    monkeypatch.setenv("MAX_AUDIO_SECONDS", "60")
    get_settings.cache_clear()
    settings = get_settings()
    engine = RecordingEngine(settings)
    offer_engine("recording", lambda _settings: engine)
    event = started(settings, sessions, media, HOSTILE["CJK"], engine="recording")

    assert generate(event)["outcome"] == "FAILURE"

    session = sessions.get(event["session_id"])
    assert session.error == "stopped at the limit of 60 s of audio per session; the audio made so far is playable"
    playlist, audio = published_audio(settings, event["session_id"])  # every listed segment exists
    assert playlist.is_endlist
    assert audio["decoded_duration"] == pytest.approx(60, abs=0.15)
    assert session.duration == pytest.approx(60, abs=0.15)
    # What was spoken is what the status says, and it is the start of the text.
    assert HOSTILE["CJK"].startswith(session.spoken_text.replace(" ", ""))
    # The rate measured on the first chunk trimmed the second before synthesis: little was made
    # only to be thrown away (without the estimate, a second full chunk: about 270 s in all).
    assert engine.seconds_returned < 1.5 * 60, engine.seconds_returned


def record_writes() -> list[dict]:
    """Every PutItem and UpdateItem sent to the sessions table from now on: what it sets, the bytes of
    its values, and the item's size after it."""
    writes: list[dict] = []
    lock = threading.Lock()
    events = aws.dynamodb().meta.events

    def before(params, model, context, **_):
        names = params.get("ExpressionAttributeNames", {})
        key = params.get("Key") or params["Item"]
        write = {
            "session_id": key["session_id"]["S"],
            "operation": model.name,
            "sets": {names[name] for name in re.findall(r"(#f\d+) =", params.get("UpdateExpression", ""))},
            "value_bytes": item_size(params.get("ExpressionAttributeValues", {})),
            "item_size": item_size(params["Item"]) if model.name == "PutItem" else None,
        }
        with lock:
            context["write"] = len(writes)
            writes.append(write)

    def after(parsed, context, **_):
        if "Attributes" in parsed:
            writes[context["write"]]["item_size"] = item_size(parsed["Attributes"])

    for operation in ("PutItem", "UpdateItem"):
        events.register(f"before-parameter-build.dynamodb.{operation}", before)
        events.register(f"after-call.dynamodb.{operation}", after)
    return writes


def test_progress_writes_stay_small_for_the_longest_text(settings, sessions, media, monkeypatch):
    monkeypatch.setenv("MAX_AUDIO_SECONDS", "30")
    get_settings.cache_clear()
    settings = get_settings()
    text = HOSTILE["CJK"]  # 5,000 characters of 3 bytes each: the longest text a start body can carry
    writes = record_writes()
    event = started(settings, sessions, media, text)
    assert generate(event)["outcome"] == "FAILURE"  # at the audio budget, after progress writes
    ran = [write for write in writes if write["session_id"] == event["session_id"]]

    created = ran[0]
    assert created["operation"] == "PutItem" and created["item_size"] < 1024
    claim, *progress, final = ran[1:]
    assert "claimed_by" in claim["sets"]
    assert progress  # merged: one write at once, then one per half second at most
    for write in progress:
        assert not write["sets"] & {"state", "spoken_text"}, write
        # One write unit each (an update is billed by the larger item, before or after, per KB).
        assert write["value_bytes"] < 200 and write["item_size"] < 1024, write
    assert {"state", "spoken_text"} <= final["sets"]

    # The largest item there can be: a session that spoke all of the longest text ends with it.
    longest = started(settings, sessions, media, text)
    sessions.claim(longest["session_id"])
    sessions.transition(longest["session_id"], State.SUCCESS, SessionUpdate(spoken_text=text, progress=100))
    (ended,) = [
        write for write in writes if write["session_id"] == longest["session_id"] and "spoken_text" in write["sets"]
    ]
    assert len(text.encode()) == 15000
    assert ended["item_size"] < 16 * 1024, ended  # written once; 400 KB is DynamoDB's limit


def record_media_writes() -> list[str]:
    """The name of every object written to S3 from now on (S3 bills each PUT)."""
    names: list[str] = []
    aws.s3().meta.events.register(
        "before-parameter-build.s3.PutObject", lambda params, **_: names.append(params["Key"].rsplit("/", 1)[1])
    )
    return names


def test_a_minute_of_audio_costs_generate_at_most_twenty_s3_writes_and_its_captions_as_many(settings, sessions, media):
    event = started(settings, sessions, media, ORDINARY)  # five minutes of espeak-ng
    writes = record_media_writes()
    assert generate(event)["outcome"] == "SUCCESS"

    playlist, audio = published_audio(settings, event["session_id"])
    minutes = audio["decoded_duration"] / 60
    assert minutes > 4
    segments = [segment.uri for segment in playlist.segments]
    captions = [f"subs_{index:03d}.vtt" for index in range(len(segments))]
    # Each segment once, never again; each with its captions; each playlist with its subtitle twin;
    # then, once each, the transcript and the file to keep.
    expected = ["init.mp4", "audio.m3u8", "subs.m3u8", "transcript.json", "audio.m4a", *segments, *captions]
    assert sorted(set(writes)) == sorted(expected)
    assert writes.count("transcript.json") == writes.count("audio.m4a") == 1
    assert writes[-2:] == ["transcript.json", "audio.m4a"]
    audio_writes = [name for name in writes if not name.startswith(("subs", "transcript", "audio.m4a"))]
    assert len(audio_writes) == len(segments) + 1 + writes.count("audio.m3u8")
    caption_writes = len(writes) - len(audio_writes) - 1
    assert caption_writes == len(captions) + writes.count("subs.m3u8") + 1 == len(audio_writes)
    figures = f"{len(audio_writes)} audio writes ({writes.count('audio.m3u8')} playlists), {len(writes)} in all"
    # Issue 15's bound, on everything generate writes: segments, captions, playlists, transcript, file.
    assert len(writes) / minutes <= 20, f"{figures} for {minutes:.2f} min"
    # Joined 8 s segments carry it: ffmpeg's 2 s parts one by one would be 30 segment writes a minute.
    assert len(segments) / minutes < 8.5, figures


def test_control_characters_become_spaces_and_the_status_says_the_words_spoken(
    start, invocations, settings, sessions, media, lambda_context
):
    # A NUL ends the C string espeak-ng reads: before, "world" was never spoken while the status said it was.
    answer = start(start_event({"text": "Hello\x00 world.\x07 Goodbye\x1b now.", "lang": "en"}), lambda_context)
    assert answer["statusCode"] == 202, answer
    (event,) = invocations
    assert event["text"] == "Hello  world.  Goodbye  now."
    assert generate(event)["outcome"] == "SUCCESS"

    status = describe_status(sessions.get(event["session_id"]), media)
    assert status["state"] == State.SUCCESS and status["spoken_text"] == "Hello world. Goodbye now."
    _, audio = published_audio(settings, event["session_id"])
    assert audio["decoded_duration"] == pytest.approx(espeak_alone_duration(status["spoken_text"]), rel=0.1)
    assert playlist_of(settings, event["session_id"]).is_endlist
