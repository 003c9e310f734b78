"""Settings: one validated model, checked where a process starts, naming the variable at fault."""

from __future__ import annotations

import subprocess
import sys

import pytest

from audiostream.config import Settings, SettingsError, get_settings
from devstack.functions import load_handler

from support.paths import REPO


def test_the_defaults_and_the_groups(settings):
    assert settings.storage.media_prefix == "media/hls"
    assert settings.speech.tts_engine == ("espeak",) and "espeak" in settings.speech.tts_engines
    assert settings.timing.heartbeat_seconds < settings.timing.stall_seconds
    assert not settings.llm.enabled


def test_an_empty_variable_means_the_default_and_lists_are_comma_separated(settings, monkeypatch):
    monkeypatch.setenv("SEGMENT_SECONDS", "")
    monkeypatch.setenv("TTS_ENGINES", " espeak , polly ,")
    monkeypatch.setenv("MEDIA_PREFIX", "/media/hls/")
    loaded = Settings.from_env()
    assert loaded.speech.segment_seconds == 2.0
    assert loaded.speech.tts_engines == ("espeak", "polly")
    assert loaded.storage.media_prefix == "media/hls"


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("HEARTBEAT_SECONDS", "abc", "HEARTBEAT_SECONDS='abc'"),
        ("HEARTBEAT_SECONDS", "0", "HEARTBEAT_SECONDS='0': Input should be greater than 0"),
        ("TTS_ENGINE", "polly", "TTS_ENGINE='polly' is not offered by TTS_ENGINES=espeak,gtts"),
        ("GENERATE_INVOKER", "celery", "GENERATE_INVOKER='celery'"),
        ("POLLY_ENGINE", "turbo", "POLLY_ENGINE='turbo'"),
        ("AAC_BITRATE", "loud", "AAC_BITRATE='loud'"),
        ("STALL_SECONDS", "10", "STALL_SECONDS=10 must be longer than HEARTBEAT_SECONDS=15"),
        ("SESSION_TTL_DAYS", "-1", "SESSION_TTL_DAYS='-1'"),
        ("LONGEST_SEGMENT_SECONDS", "1", "LONGEST_SEGMENT_SECONDS=1 is shorter than SEGMENT_SECONDS=2"),
        ("LONGEST_SEGMENT_SECONDS", "11", "LONGEST_SEGMENT_SECONDS='11'"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(settings, monkeypatch, variable, value, words):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    assert words in str(refused.value)


def test_every_bad_variable_is_named_at_once(settings, monkeypatch):
    monkeypatch.setenv("HEARTBEAT_SECONDS", "abc")
    monkeypatch.setenv("MAX_TEXT_CHARS", "many")
    message = str(pytest.raises(SettingsError, Settings.from_env).value)
    assert "HEARTBEAT_SECONDS" in message and "MAX_TEXT_CHARS" in message


def test_the_api_key_never_appears_in_a_repr_or_a_log(settings, monkeypatch, capfd):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    loaded = Settings.from_env()
    assert loaded.llm.openai_api_key.get_secret_value() == "sk-very-secret"
    assert "sk-very-secret" not in repr(loaded) and "sk-very-secret" not in str(loaded)
    assert "sk-very-secret" not in loaded.model_dump_json()
    from audiostream.observability import logger

    logger.info("settings at start", extra={"settings": loaded.model_dump()})
    assert "sk-very-secret" not in capfd.readouterr().out


@pytest.mark.parametrize("function", ["start", "status", "cancel", "generate", "failed_generations"])
def test_a_function_with_a_bad_setting_fails_its_cold_start(settings, monkeypatch, function):
    monkeypatch.setenv("HEARTBEAT_SECONDS", "abc")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="HEARTBEAT_SECONDS='abc'"):
        load_handler(function)


def test_the_dev_stack_refuses_to_start_with_a_bad_setting(settings):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{REPO / 'layers' / 'core'}:{REPO}", "TTS_ENGINE": "gtts"}
    env["TTS_ENGINES"] = "espeak"
    ran = subprocess.run(
        [sys.executable, "-m", "devstack"], env=env, capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert ran.returncode == 2
    assert "TTS_ENGINE='gtts' is not offered by TTS_ENGINES=espeak" in ran.stderr
    assert "ready at" not in ran.stdout
