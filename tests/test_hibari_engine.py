"""The neural engine on its own: only the voices really on disk, never the network, a sentence at a time."""

from __future__ import annotations

import json
import socket
import urllib.request

import numpy as np
import pytest

from audiostream.api.catalog import describe_engines
from audiostream.api.start_request import InvalidRequest, parse_start_request
from audiostream.speech.engines import TtsError, get_engine
from audiostream.speech.engines import hibari as hibari_engine

RATE = hibari_engine.HibariEngine.sample_rate


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No voice files but the packaged one, and any attempt to reach the network fails the test."""
    monkeypatch.setenv("HIBARI_HOME", str(tmp_path))
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"the engine tried to reach the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    yield tmp_path
    assert attempts == []


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768


def test_only_the_packaged_voice_is_offered_and_it_speaks_without_the_network(settings, offline):
    engine = get_engine("hibari", settings)
    assert engine.voices() == frozenset({"heart"})
    assert engine.languages() == {"en": "English", "en-us": "English (America)"}
    assert engine.default_voice("en") == "heart"
    audio = samples(engine.synthesize("Hello there, this voice lives on this machine.", "en", None))
    assert 1.5 < audio.size / RATE < 6
    assert np.sqrt(np.mean(audio**2)) > 0.01  # speech, not silence


def test_a_voice_file_that_is_not_the_published_one_is_never_offered(settings, offline):
    packaged = hibari_engine._voice_path(hibari_engine.VOICES["heart"])
    # Another voice's name on the packaged file (a real model, the wrong checksum), and a broken file.
    (offline / hibari_engine.VOICES["kore"].file).write_bytes(packaged.read_bytes())
    (offline / hibari_engine.VOICES["emma"].file).write_bytes(b"not a model")
    engine = get_engine("hibari", settings)
    assert engine.voices() == frozenset({"heart"})
    assert "en-gb" not in engine.languages()
    with pytest.raises(TtsError, match="not installed"):
        list(engine.stream("Hello.", "en", "kore"))


def test_each_sentence_comes_as_it_is_made_with_its_silences_cut_short(settings, offline):
    engine = get_engine("hibari", settings)
    pieces = list(engine.stream("The first sentence. Then a second one! And is this the third?", "en", None))
    assert [tuple(mark.text for mark in piece.sentences) for piece in pieces] == [
        ("The first sentence.",),
        ("Then a second one!",),
        ("And is this the third?",),
    ]
    assert all(piece.sentences[0].sample == 0 for piece in pieces)
    for pcm in (piece.pcm for piece in pieces):
        loud = np.flatnonzero(np.abs(samples(pcm)) > hibari_engine.SILENCE_LEVEL)
        lead, tail = loud[0] / RATE, (len(pcm) // 2 - loud[-1]) / RATE
        assert lead <= hibari_engine.LEAD_SECONDS + 0.001
        assert tail <= hibari_engine.TAIL_SECONDS + 0.001


def test_without_the_package_the_engine_is_left_out_and_start_says_why(settings, monkeypatch):
    monkeypatch.setattr(hibari_engine, "_package_dir", lambda: None)
    assert "hibari" not in {engine["name"] for engine in describe_engines(settings)["engines"]}
    with pytest.raises(InvalidRequest) as refused:
        parse_start_request(json.dumps({"text": "Hello.", "engine": "hibari"}).encode(), settings)
    assert refused.value.status == 422 and refused.value.field == "engine"
    assert "not installed" in refused.value.message
