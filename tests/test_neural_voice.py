"""The neural voice (engine "hibari") through the whole pipeline, checked by ear: an offline recogniser
must hear the paragraph it was given in the published stream, and must not hear it in another."""

import pytest

from audiostream.generation.invocation import generate
from audiostream.speech.engines.hibari import HibariEngine
from audiostream.store.sessions import State

from support.paths import read_text
from support.published_stream import decoded_pcm, download_stream
from support.recognition import RECOGNISER_RATE, transcribe, word_error_rate, words
from support.sessions import published_audio, started

PARAGRAPH = read_text("the_baker.txt")  # 63 words, the numbers written as words
OTHER_PARAGRAPH = read_text("the_grandmother.txt")  # as long, hardly a word in common
BOUND = 0.2  # the word error rate


def test_the_word_error_rate_counts_substitutions_deletions_and_insertions():
    assert words("It's twenty-one, Sir!") == ["its", "twenty", "one", "sir"]
    assert word_error_rate("the cat sat on the mat", "the cat sat on the mat") == 0
    assert word_error_rate("the cat sat on the mat", "a cat sat on mat today") == pytest.approx(3 / 6)
    assert word_error_rate("one two", "") == 1
    with pytest.raises(ValueError, match="as words"):
        words("buy 2 cookies")


def published(settings, sessions, media, text, engine, folder):
    """Speak ``text`` with ``engine`` through generate; the session, its playlist and the stream's copy."""
    event = started(settings, sessions, media, text, engine=engine)
    assert generate(event) == {"session_id": event["session_id"], "outcome": "SUCCESS"}
    playlist, path = download_stream(settings, event["session_id"], folder)
    return sessions.get(event["session_id"]), playlist, path


def heard(path) -> str:
    return transcribe(decoded_pcm(path, RECOGNISER_RATE), RECOGNISER_RATE)


def test_the_neural_voice_speaks_a_paragraph_as_a_complete_hls_stream(settings, sessions, media, tmp_path):
    session, playlist, path = published(settings, sessions, media, PARAGRAPH, "hibari", tmp_path)

    assert session.state is State.SUCCESS and session.engine == "hibari" and session.progress == 100
    assert playlist.playlist_type == "event" and playlist.is_endlist
    # The first 2 s alone, then segments of up to 8 s.
    assert playlist.segment_map[0].uri == "init.mp4" and len(playlist.segments) >= 3
    _, audio = published_audio(settings, session.session_id)  # every named segment is stored, audio/mp4
    assert (audio["codec"], audio["channels"], audio["sample_rate"]) == ("aac", 1, 44100)
    engine_alone = len(HibariEngine().synthesize(PARAGRAPH, "en", None)) / 2 / HibariEngine.sample_rate
    played = len(decoded_pcm(path, 8000)) / 2 / 8000
    print(
        f"\nhibari: engine alone {engine_alone:.3f} s, stream decoded {audio['decoded_duration']:.3f} s,"
        f" played through the playlist {played:.3f} s, {len(playlist.segments)} segments"
    )
    assert audio["decoded_duration"] == pytest.approx(engine_alone, rel=0.05)
    assert played == pytest.approx(engine_alone, rel=0.05)
    assert session.duration == pytest.approx(sum(segment.duration for segment in playlist.segments), abs=0.01)


@pytest.mark.recognition
def test_a_recogniser_hears_the_paragraph_in_the_neural_stream(settings, sessions, media, tmp_path):
    _, _, path = published(settings, sessions, media, PARAGRAPH, "hibari", tmp_path)
    transcript = heard(path)
    error_rate = word_error_rate(PARAGRAPH, transcript)
    print(f"\nhibari WER {error_rate:.3f}: {transcript}")
    assert error_rate < BOUND


@pytest.mark.recognition
def test_the_word_error_check_fails_on_speech_of_other_words(settings, sessions, media, tmp_path):
    """The same recogniser and check, the right voice saying the wrong paragraph: the check must fail."""
    _, _, path = published(settings, sessions, media, OTHER_PARAGRAPH, "hibari", tmp_path)
    transcript = heard(path)
    assert word_error_rate(OTHER_PARAGRAPH, transcript) < BOUND  # the recogniser heard this one right
    error_rate = word_error_rate(PARAGRAPH, transcript)
    print(f"\nWER of the paragraph against another paragraph's stream {error_rate:.3f}")
    assert error_rate > 0.7


@pytest.mark.recognition
def test_espeak_word_error_rate_on_the_same_paragraph_for_the_record(settings, sessions, media, tmp_path):
    """Not bounded: espeak-ng's formant voice is far from the speech PocketSphinx's model was trained on."""
    _, _, path = published(settings, sessions, media, PARAGRAPH, "espeak", tmp_path)
    transcript = heard(path)
    print(f"\nespeak WER {word_error_rate(PARAGRAPH, transcript):.3f}: {transcript}")
    assert transcript  # it heard something: the stream is speech, just not speech it understands
