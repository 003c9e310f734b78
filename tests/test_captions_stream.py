"""Captions inside the published stream: the subtitle playlist is the audio playlist's twin in a
finished and in a failed session, every WebVTT segment holds the cues heard in it, and each
sentence's cue starts where its audio does."""

from __future__ import annotations

import io
import itertools
import json
import re

import m3u8
import numpy as np
import pytest
import webvtt

from audiostream.api.status import describe_status
from audiostream.config import get_settings
from audiostream.generation.invocation import generate
from audiostream.speech.captions import AAC_PRIMING_SAMPLES, TIMESTAMP_MAP
from audiostream.speech.engines import get_engine

from support.published_stream import decoded_pcm, download_stream
from support.sessions import started, stored

SENTENCES = [
    "The lighthouse keeper climbed the stairs at dusk.",
    "He lit the lamp and watched the ships come home.",
    "Then he wrote one line in his book, as he did every night.",
    "Nothing happened today, it said, and that was good.",
]
RATE = 8000  # what the stream is decoded to for measuring


def seconds(timestamp: str) -> float:
    hours, minutes, rest = timestamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def captions_of(settings, session_id) -> tuple[m3u8.M3U8, m3u8.M3U8, list[list[webvtt.Caption]]]:
    audio = m3u8.loads(stored(settings, session_id, "audio.m3u8")["Body"].read().decode())
    subtitles = m3u8.loads(stored(settings, session_id, "subs.m3u8")["Body"].read().decode())
    segments = []
    for segment in subtitles.segments:
        obj = stored(settings, session_id, segment.uri)
        assert obj["ContentType"].startswith("text/vtt")
        text = obj["Body"].read().decode()
        assert text.splitlines()[:2] == ["WEBVTT", TIMESTAMP_MAP]
        segments.append(list(webvtt.from_buffer(io.StringIO(text))))
    return audio, subtitles, segments


def assert_twins(audio: m3u8.M3U8, subtitles: m3u8.M3U8) -> None:
    assert subtitles.target_duration == audio.target_duration
    assert subtitles.playlist_type == audio.playlist_type == "event"
    assert subtitles.is_endlist and audio.is_endlist
    assert [s.duration for s in subtitles.segments] == [s.duration for s in audio.segments]
    assert not subtitles.segment_map


def transcript_of(settings, sessions, media, session_id) -> dict:
    """transcript.json, found where the status says it is."""
    status = describe_status(sessions.get(session_id), media)
    folder = f"/media/hls/{session_id}/"
    assert (status["master"], status["captions"]) == (folder + "master.m3u8", folder + "subs.m3u8")
    assert status["transcript"] == folder + "transcript.json"
    if status["state"] == "SUCCESS":
        assert status["result"]["transcript"] == status["transcript"]
    obj = stored(settings, session_id, "transcript.json")
    assert obj["ContentType"] == "application/json"
    return json.loads(obj["Body"].read())


def onsets(pcm: bytes, quiet_seconds: float = 0.2, level: float = 0.01) -> list[float]:
    """Where speech starts after each pause of at least ``quiet_seconds`` (10 ms frames above ``level``)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
    frame = RATE // 100
    loud = np.abs(samples[: samples.size // frame * frame]).reshape(-1, frame).max(axis=1) > level
    found, quiet = [], quiet_seconds * 100
    for index, is_loud in enumerate(loud):
        if is_loud:
            if quiet >= quiet_seconds * 100:
                found.append(index / 100)
            quiet = 0
        else:
            quiet += 1
    return found


def test_each_sentence_s_cue_starts_where_its_audio_does(settings, sessions, media, tmp_path):
    event = started(settings, sessions, media, " ".join(SENTENCES), engine="hibari")
    assert generate(event)["outcome"] == "SUCCESS"
    audio, subtitles, segments = captions_of(settings, event["session_id"])
    assert_twins(audio, subtitles)

    # Every segment holds the cues heard in it, a cue over an edge in both, with the same id and times.
    cues = {}
    start = 0.0
    for segment, segment_cues in zip(audio.segments, segments, strict=True):
        for cue in segment_cues:
            assert seconds(cue.start) < start + segment.duration and seconds(cue.end) > start
            assert cues.setdefault(cue.identifier, (cue.start, cue.end, cue.text)) == (cue.start, cue.end, cue.text)
        start += segment.duration
    ordered = sorted(cues.values(), key=lambda cue: seconds(cue[0]))
    assert [text for _, _, text in ordered] == SENTENCES
    assert sum(len(segment_cues) for segment_cues in segments) > len(ordered)  # some cue spans an edge

    # Measured independently, twice: each sentence spoken alone gives where it starts in the stream...
    engine = get_engine("hibari", settings)
    delay = AAC_PRIMING_SAMPLES / settings.speech.audio_sample_rate
    alone = [len(engine.synthesize(sentence, "en", None)) / 2 / engine.sample_rate for sentence in SENTENCES]
    expected = delay + np.concatenate(([0.0], np.cumsum(alone)[:-1]))
    for (cue_start, _, text), where in zip(ordered, expected, strict=True):
        assert seconds(cue_start) == pytest.approx(where, abs=0.05), text
    # ...and the decoded stream's own pauses: each sentence's first sound follows its cue's start
    # by the engine's short lead-in (hibari keeps 50 ms before the first word), never precedes it.
    _, path = download_stream(settings, event["session_id"], tmp_path)
    pcm = decoded_pcm(path, RATE)
    heard = onsets(pcm)  # every sentence's start, and any longer pause inside one (at a comma)
    assert len(SENTENCES) <= len(heard) <= 2 * len(SENTENCES)
    for cue_start, _, text in ordered:
        first_sound = min(heard, key=lambda onset: abs(onset - seconds(cue_start)))
        assert 0.0 <= first_sound - seconds(cue_start) <= 0.1, (text, heard, cue_start)
    assert seconds(ordered[-1][1]) == pytest.approx(len(pcm) / 2 / RATE, abs=0.3)

    # The transcript holds the same sentences at the same times (hibari reports no words).
    transcript = transcript_of(settings, sessions, media, event["session_id"])
    assert [(round(s["start"], 3), round(s["end"], 3), s["text"], s["words"]) for s in transcript["sentences"]] == [
        (seconds(start), seconds(end), text, []) for start, end, text in ordered
    ]


def test_a_failed_session_closes_both_playlists_over_the_same_segments(settings, sessions, media, monkeypatch):
    monkeypatch.setenv("MAX_AUDIO_SECONDS", "9")
    get_settings.cache_clear()
    settings = get_settings()
    event = started(settings, sessions, media, " ".join(SENTENCES * 3))  # espeak-ng: one piece per chunk
    assert generate(event)["outcome"] == "FAILURE"  # stopped at the audio budget
    audio, subtitles, segments = captions_of(settings, event["session_id"])
    assert_twins(audio, subtitles)
    assert audio.segments and sum(s.duration for s in audio.segments) == pytest.approx(9, abs=0.1)
    heard = [cue.text for segment_cues in segments for cue in segment_cues]
    assert heard and heard[0] == SENTENCES[0]
    # The transcript names what was heard, up to the cut.
    sentences = transcript_of(settings, sessions, media, event["session_id"])["sentences"]
    cues = {cue.identifier: cue.text for segment_cues in segments for cue in segment_cues}
    assert [sentence["text"] for sentence in sentences] == list(cues.values())
    assert sentences[-1]["end"] <= 9 + 0.1


def test_espeak_ng_times_each_sentence_and_word_by_its_own_events(settings, sessions, media, tmp_path):
    event = started(settings, sessions, media, " ".join(SENTENCES), engine="espeak")
    assert generate(event)["outcome"] == "SUCCESS"
    audio, subtitles, segments = captions_of(settings, event["session_id"])
    assert_twins(audio, subtitles)
    sentences = transcript_of(settings, sessions, media, event["session_id"])["sentences"]
    assert [sentence["text"] for sentence in sentences] == SENTENCES
    # Every word, as written, in order, each inside its sentence.
    for sentence in sentences:
        words = sentence["words"]
        assert [word["text"] for word in words] == sentence["text"].split()
        assert words[0]["start"] == sentence["start"] and words[-1]["end"] == sentence["end"]
        assert all(a["end"] == b["start"] and a["start"] < b["start"] for a, b in itertools.pairwise(words))
    # The WebVTT cues carry the same words' times as cue timestamps.
    cue = next(cue for segment_cues in segments for cue in segment_cues if cue.text == SENTENCES[1])
    stamps = [seconds(stamp) for stamp in re.findall(r"<(\d\d:\d\d:\d\d\.\d\d\d)>", cue.raw_text)]
    assert stamps == [word["start"] for word in sentences[1]["words"][1:]]
    # Each sentence after the first starts where the decoded stream's sound resumes after a pause.
    _, path = download_stream(settings, event["session_id"], tmp_path)
    heard = onsets(decoded_pcm(path, RATE))
    for sentence in sentences[1:]:
        first_sound = min(heard, key=lambda onset: abs(onset - sentence["start"]))
        assert -0.03 <= first_sound - sentence["start"] <= 0.05, (sentence["text"], heard)
