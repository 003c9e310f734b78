"""Captions: sentence cues timed by the samples fed to the encoder, WebVTT segments that repeat a cue
spanning their edge, and the subtitle and multivariant playlists beside the audio's."""

from __future__ import annotations

import io

import m3u8
import pytest
import webvtt

from audiostream.media.hls import (
    PLAYLIST_NAME,
    SUBTITLES_PLAYLIST_NAME,
    Segment,
    render_multivariant,
    render_playlist,
    render_subtitles_playlist,
)
from audiostream.speech.captions import AAC_PRIMING_SAMPLES, TIMESTAMP_MAP, CaptionTimeline, Cue, Word, render_vtt
from audiostream.speech.engines.base import Mark

RATE, OUT = 24000, 44100
DELAY = AAC_PRIMING_SAMPLES / OUT


def test_a_sentence_piece_starts_where_the_samples_before_it_end():
    timeline = CaptionTimeline(RATE, OUT)
    timeline.add(36000, "Hello world. Goodbye now.", [Mark(0, "Hello world.")])  # 1.5 s
    timeline.add(12000, "Hello world. Goodbye now.", [Mark(0, "  ")])  # nothing to read: time, not a cue
    timeline.add(24000, "Hello world. Goodbye now.", [Mark(0, "Goodbye now.")])
    assert timeline.cues == [
        Cue(0, round(DELAY, 3), round(1.5 + DELAY, 3), "Hello world."),
        Cue(1, round(2.0 + DELAY, 3), round(3.0 + DELAY, 3), "Goodbye now."),
    ]


def test_a_chunk_piece_is_shared_among_its_sentences_by_their_characters():
    timeline = CaptionTimeline(22050, OUT)
    timeline.add(22050 * 3, "One two three. Four five six seven eight nine ten?")
    first, second = timeline.cues
    assert (first.text, second.text) == ("One two three.", "Four five six seven eight nine ten?")
    assert first.start == pytest.approx(DELAY, abs=0.001)
    assert first.end == second.start == pytest.approx(DELAY + 3 * 14 / (14 + 35), abs=0.001)
    assert second.end == pytest.approx(3 + DELAY, abs=0.001)


def test_sentence_and_word_marks_place_the_cues_and_their_words():
    timeline = CaptionTimeline(RATE, OUT)
    timeline.add(RATE, "ignored")  # 1 s before
    text = "Hello there. Bye."
    sentences = [Mark(0, "Hello there."), Mark(RATE * 2, "Bye.")]
    words = [Mark(RATE // 10, "Hello"), Mark(RATE, "there."), Mark(RATE * 2, "Bye."), Mark(RATE * 9, "beyond")]
    timeline.add(RATE * 3, text, sentences, words)  # 3 s; a mark past its end is dropped
    first, second = timeline.cues[1:]
    at = lambda seconds: round(seconds + DELAY, 3)  # noqa: E731
    assert first == Cue(1, at(1), at(3), "Hello there.", (Word(at(1.1), at(2), "Hello"), Word(at(2), at(3), "there.")))
    assert second == Cue(2, at(3), at(4), "Bye.", (Word(at(3), at(4), "Bye."),))
    transcript = timeline.transcript()
    assert transcript["sentences"][1] == {
        "start": at(1),
        "end": at(3),
        "text": "Hello there.",
        "words": [{"start": at(1.1), "end": at(2), "text": "Hello"}, {"start": at(2), "end": at(3), "text": "there."}],
    }
    # In WebVTT, each word after the first carries the time it is spoken.
    (read,) = webvtt.from_buffer(io.StringIO(render_vtt([first]))).captions
    assert read.raw_text == f"Hello <00:00:02.{round(DELAY * 1000):03d}>there."
    assert read.text == "Hello there."


def test_a_sentence_cut_short_says_the_words_spoken_and_one_not_cut_keeps_its_punctuation():
    timeline = CaptionTimeline(RATE, OUT)
    sentences = [Mark(0, "Mary had a lamb."), Mark(RATE * 2, "Its fleece was white.")]
    # Polly's word marks carry no punctuation; the second sentence is cut after its second word.
    words = [Mark(RATE * n // 2, word) for n, word in enumerate(["Mary", "had", "a", "lamb", "Its", "fleece", "was"])]
    timeline.add(RATE * 3, "Mary had a lamb. Its fleece was white.", sentences, words)
    assert [cue.text for cue in timeline.cues] == ["Mary had a lamb.", "Its fleece"]
    assert timeline.cues[1].end == round(3 + DELAY, 3)


def test_the_cues_of_a_stretch_are_those_heard_in_it_even_in_part():
    timeline = CaptionTimeline(RATE, OUT)
    for text in ("A.", "B.", "C."):
        timeline.add(RATE * 3, text, [Mark(0, text)])  # 0-3, 3-6, 6-9 s (plus the delay)
    assert [cue.text for cue in timeline.between(0, 2)] == ["A."]
    assert [cue.text for cue in timeline.between(2, 4)] == ["A.", "B."]
    assert [cue.text for cue in timeline.between(9.1, 12)] == []


def test_a_vtt_segment_is_webvtt_that_an_independent_reader_takes():
    cues = [Cue(7, 3.5, 65.25, "Tom & Jerry <run> --> away"), Cue(8, 3661.0, 3662.5, "Later.")]
    text = render_vtt(cues)
    assert text.splitlines()[:2] == ["WEBVTT", TIMESTAMP_MAP]
    read = webvtt.from_buffer(io.StringIO(text))
    assert [(cue.identifier, cue.start, cue.end) for cue in read] == [
        ("7", "00:00:03.500", "00:01:05.250"),
        ("8", "01:01:01.000", "01:01:02.500"),
    ]
    assert read.captions[0].raw_text == "Tom &amp; Jerry &lt;run&gt; --&gt; away"
    assert render_vtt([]).strip().splitlines() == ["WEBVTT", TIMESTAMP_MAP]  # hls.js refuses an empty file


def test_the_subtitle_playlist_is_the_audio_playlist_s_twin():
    segments = [Segment("audio_000.m4s", 2.02), Segment("audio_001.m4s", 3.99)]
    for ended in (False, True):
        audio = m3u8.loads(render_playlist(segments, 4, ended))
        subtitles = m3u8.loads(render_subtitles_playlist(segments, 4, ended))
        assert subtitles.target_duration == audio.target_duration == 4
        assert subtitles.playlist_type == audio.playlist_type == "event"
        assert subtitles.is_endlist == audio.is_endlist == ended
        assert [s.duration for s in subtitles.segments] == [s.duration for s in audio.segments]
        assert [s.uri for s in subtitles.segments] == ["subs_000.vtt", "subs_001.vtt"]
        assert not subtitles.segment_map and audio.segment_map[0].uri == "init.mp4"


def test_the_multivariant_playlist_names_the_audio_and_its_captions():
    playlist = m3u8.loads(render_multivariant("en", "English", 70_000))
    assert playlist.is_variant
    (variant,) = playlist.playlists
    assert variant.uri == PLAYLIST_NAME
    assert variant.stream_info.bandwidth == 70_000 and variant.stream_info.codecs == "mp4a.40.2"
    assert variant.stream_info.subtitles == "subs"
    (captions,) = playlist.media
    assert (captions.type, captions.group_id, captions.language, captions.name) == (
        "SUBTITLES",
        "subs",
        "en",
        "English",
    )
    assert (captions.default, captions.autoselect, captions.uri) == ("YES", "YES", SUBTITLES_PLAYLIST_NAME)
