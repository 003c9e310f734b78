"""When the publisher uploads and lists what ffmpeg made: every part at once while a listener is near,
parts joined into target-duration segments and few playlist writes once the stream is far ahead.

The parts are real (ffmpeg encodes 90 s of a tone once for the module), the storage is the dev
stack's S3; only the pace is staged: the parts are shown to the publisher one at a time, and its
clock says how much a listener who started at the first listing has heard.
"""

from __future__ import annotations

import itertools
import math

import m3u8
import numpy as np
import pytest

from audiostream.generation.publisher import SegmentPublisher
from audiostream.media.encoder import HlsEncoder
from audiostream.media.hls import INIT_NAME, PLAYLIST_NAME
from audiostream.speech.captions import CaptionTimeline, render_vtt

from support.audio import probe_hls
from support.sessions import stored

SESSION = "0123456789abcdef0123456789abcdef"
TARGET = 4
RATE = 24000
SECONDS = 90


def tone(seconds: float) -> bytes:
    samples = np.arange(int(seconds * RATE))
    return (8000 * np.sin(2 * np.pi * 440 * samples / RATE)).astype("<i2").tobytes()


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> HlsEncoder:
    encoder = HlsEncoder(tmp_path_factory.mktemp("parts"), RATE, part_seconds=2)
    encoder.start()
    encoder.write(tone(SECONDS))
    encoder.close()
    assert sum(part.duration for part in encoder.finished_parts()) == pytest.approx(SECONDS, abs=0.05)
    return encoder


class Unfinished:
    """The encoder's parts as ffmpeg finishes them: the first ``visible`` of them."""

    def __init__(self, encoder: HlsEncoder):
        self.encoder = encoder
        self.visible = 0
        self.init_path = encoder.init_path
        self.part_path = encoder.part_path

    def init_written(self) -> bool:
        return self.visible > 0

    def finished_parts(self):
        return self.encoder.finished_parts()[: self.visible]


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class RecordingMedia:
    """The real media store, noting each upload in order, when it happened on the publisher's clock,
    and what each playlist listed."""

    def __init__(self, media, clock):
        self.media = media
        self.clock = clock
        self.uploads: list[str] = []
        self.uploaded_at: dict[str, float] = {}
        self.playlists: list[list[str]] = []
        self.first_listed_at: dict[str, float] = {}
        self.captions: dict[str, str] = {}
        self.subtitle_playlists: list[list[str]] = []

    def put_media(self, session_id, name, body):
        self.media.put_media(session_id, name, body)
        self.uploads.append(name)
        self.uploaded_at[name] = self.clock()

    def put_captions(self, session_id, name, text):
        self.media.put_captions(session_id, name, text)
        self.uploads.append(name)
        self.captions[name] = text

    def put_playlist(self, session_id, text, name=PLAYLIST_NAME):
        self.media.put_playlist(session_id, text, name)
        names = [segment.uri for segment in m3u8.loads(text).segments]
        assert set(names) <= set(self.uploads), "a playlist named a segment before it was uploaded"
        self.uploads.append(name)
        if name != PLAYLIST_NAME:
            self.subtitle_playlists.append(names)
            return
        assert names[: len(self.playlists[-1]) if self.playlists else 0] == (self.playlists or [[]])[-1]
        self.playlists.append(names)
        for name in names:
            self.first_listed_at.setdefault(name, self.clock())


def publisher_of(staged, media, clock, captions=None) -> tuple[SegmentPublisher, RecordingMedia]:
    recording = RecordingMedia(media, clock)
    publisher = SegmentPublisher(
        SESSION, staged, recording, TARGET, lambda count, seconds: None, clock=clock, captions=captions
    )
    return publisher, recording


def publish(encoded, media, clock, heard_per_part: float) -> tuple[SegmentPublisher, RecordingMedia]:
    """Show the parts one at a time; between two, the listener hears ``heard_per_part`` seconds."""
    staged = Unfinished(encoded)
    publisher, recording = publisher_of(staged, media, clock)
    for visible in range(1, len(encoded.finished_parts()) + 1):
        staged.visible = visible
        publisher.publish_new()
        clock.now += heard_per_part
    publisher.publish_new(ending=True)
    publisher.close_playlist()
    return publisher, recording


def stream_from_storage(settings):
    playlist = m3u8.loads(stored(settings, SESSION, PLAYLIST_NAME)["Body"].read().decode())
    init = stored(settings, SESSION, INIT_NAME)["Body"].read()
    segments = [stored(settings, SESSION, segment.uri)["Body"].read() for segment in playlist.segments]
    return playlist, probe_hls(init, segments)


def test_far_ahead_of_the_listener_parts_are_joined_and_the_playlist_rarely_rewritten(encoded, settings, media, moto):
    clock = Clock()
    publisher, recording = publish(encoded, media, clock, heard_per_part=0.0)  # made in no time at all

    # First sound is not delayed: init, the first 2 s part and a playlist naming it, before anything else.
    assert recording.uploads[:3] == [INIT_NAME, "audio_000.m4s", PLAYLIST_NAME]
    durations = [segment.duration for segment in publisher.published]
    assert durations[0] == pytest.approx(2.0, abs=0.05)
    # Parts go up as they come until a target duration (4 s) is uploaded past the listener; then
    # they wait to be joined into full segments (pairs).
    singles = list(itertools.takewhile(lambda d: d < 3, durations))
    assert sum(singles[:-1]) < TARGET <= sum(singles)
    joined = durations[len(singles) :]
    assert all(d == pytest.approx(4.0, abs=0.1) for d in joined[:-1])
    assert sum(joined) == pytest.approx(SECONDS - sum(singles), abs=0.05)
    assert len(joined) == math.ceil((len(encoded.finished_parts()) - len(singles)) / 2)  # the last may be alone
    # The playlist names the first part at once; then, no time passing, nothing until a minute of
    # audio waits to be named; then it is closed, naming everything.
    assert len(recording.playlists) == 3 and recording.playlists[0] == ["audio_000.m4s"]
    named_at_once = [publisher.published[i].duration for i in range(1, len(recording.playlists[1]))]
    assert sum(named_at_once) >= 60 > sum(named_at_once[:-1])
    unnamed = sum(segment.duration for segment in publisher.published[len(recording.playlists[1]) :])
    assert unnamed < 60
    assert recording.playlists[-1] == [segment.name for segment in publisher.published]

    playlist, audio = stream_from_storage(settings)
    assert playlist.is_endlist and playlist.target_duration == TARGET
    assert all(round(segment.duration) <= TARGET for segment in playlist.segments)
    assert audio["codec"] == "aac"
    assert audio["decoded_duration"] == pytest.approx(SECONDS, abs=0.05)


def test_near_the_listener_every_part_goes_up_and_is_listed_at_once(encoded, settings, media, moto):
    clock = Clock()
    publisher, recording = publish(encoded, media, clock, heard_per_part=2.0)  # made in real time

    assert [segment.duration for segment in publisher.published] == pytest.approx(
        [part.duration for part in encoded.finished_parts()]
    )
    # After each part's upload a playlist that names it, so the listener never waits for a join.
    parts = len(encoded.finished_parts())
    assert recording.uploads[1:] == [name for i in range(parts) for name in (f"audio_{i:03d}.m4s", PLAYLIST_NAME)] + [
        PLAYLIST_NAME
    ]
    _, audio = stream_from_storage(settings)
    assert audio["decoded_duration"] == pytest.approx(SECONDS, abs=0.05)


@pytest.mark.parametrize("heard_per_part", [0.1, 0.5, 1.0, 1.5])  # made at 20x, 4x, 2x and 1.3x real time
def test_every_segment_is_named_within_a_target_duration_of_its_upload(encoded, media, moto, heard_per_part):
    # So that a listener at twice the speed, or one who seeks ahead, finds what is made, and the open
    # playlist changes at least every 1.5 target durations (RFC 8216 6.2.2).
    clock = Clock()
    publisher, recording = publish(encoded, media, clock, heard_per_part)
    for segment in publisher.published:
        waited = recording.first_listed_at[segment.name] - recording.uploaded_at[segment.name]
        assert waited <= TARGET + heard_per_part, (segment, waited)
    assert max(segment.duration for segment in publisher.published) > 3  # joined, once far enough ahead
    gaps = [b - a for a, b in itertools.pairwise(sorted(set(recording.first_listed_at.values())))]
    assert max(gaps) <= TARGET + heard_per_part


def test_parts_finished_together_at_the_start_go_up_after_the_first_segment_is_named(encoded, media, moto):
    """The first chunk often makes several parts at once: the first is named alone, the others after
    it, joined (they are all there: joining them delays nobody)."""
    clock = Clock()
    staged = Unfinished(encoded)
    listings = []
    recording = RecordingMedia(media, clock)
    publisher = SegmentPublisher(
        SESSION,
        staged,
        recording,
        TARGET,
        lambda count, seconds: listings.append((count, recording.uploads[-1])),
        clock=clock,
    )
    staged.visible = 3
    publisher.publish_new()
    assert recording.uploads[:4] == [INIT_NAME, "audio_000.m4s", PLAYLIST_NAME, "audio_001.m4s"]
    assert recording.playlists == [["audio_000.m4s"]]
    # Progress is told the moment the audio playlist names the first segment.
    assert listings == [(1, PLAYLIST_NAME)]
    # The listener has 2 s: the next playlist may wait a second (no player reloads sooner).
    clock.now += 0.99
    publisher.publish_new()
    assert len(recording.playlists) == 1
    clock.now += 0.01
    publisher.publish_new()
    assert listings == [(1, PLAYLIST_NAME), (2, PLAYLIST_NAME)]
    assert recording.playlists[-1] == ["audio_000.m4s", "audio_001.m4s"]
    assert [round(segment.duration) for segment in publisher.published] == [2, 4]
    assert publisher.first_listed_at is not None


def test_a_listener_who_comes_within_three_target_durations_gets_the_rest_at_once(encoded, media, moto):
    clock = Clock()
    staged = Unfinished(encoded)
    publisher, recording = publisher_of(staged, media, clock)
    for visible in range(1, len(encoded.finished_parts()) + 1):
        staged.visible = visible
        publisher.publish_new()
        if publisher.listed == 1:
            clock.now += 0.5  # the listener has heard half a second when the stream pulls ahead
    listed_seconds = sum(segment.duration for segment in publisher.published[: publisher.listed])
    assert publisher.listed < len(publisher.published)  # uploaded, not named yet: no listener needs it

    clock.now += 1.0
    publisher.publish_new()
    assert publisher.listed < len(publisher.published)  # 1.5 s heard, more than 12 s still named ahead

    clock.now += listed_seconds - 3 * TARGET  # now within 12 s of the end of what is named
    publisher.publish_new()
    assert recording.playlists[-1] == [segment.name for segment in publisher.published]


def test_stop_uploads_what_the_thread_had_not_taken(encoded, media, moto):
    clock = Clock()
    staged = Unfinished(encoded)
    publisher, recording = publisher_of(staged, media, clock)
    publisher.start()
    staged.visible = len(encoded.finished_parts())  # all at once, as ffmpeg's last parts after its input ends
    publisher.stop()
    publisher.close_playlist()
    assert sum(segment.duration for segment in publisher.published) == pytest.approx(SECONDS, abs=0.05)
    assert recording.playlists[-1] == [segment.name for segment in publisher.published]


def test_with_captions_the_first_segment_waits_for_no_caption_and_each_listing_names_its_captions(encoded, media, moto):
    clock = Clock()
    timeline = CaptionTimeline(RATE, 44100)
    for number in range(SECONDS // 3):
        timeline.add(RATE * 3, f"Sentence {number}.")  # one every 3 s
    staged = Unfinished(encoded)
    publisher, recording = publisher_of(staged, media, clock, captions=timeline)
    for visible in range(1, len(encoded.finished_parts()) + 1):
        staged.visible = visible
        publisher.publish_new()
        clock.now += 0.5
    publisher.publish_new(ending=True)
    publisher.close_playlist()

    assert recording.uploads[:5] == [INIT_NAME, "audio_000.m4s", PLAYLIST_NAME, "subs_000.vtt", "subs.m3u8"]
    names = [segment.name for segment in publisher.published]
    assert recording.subtitle_playlists[-1] == [f"subs_{index:03d}.vtt" for index in range(len(names))]
    assert len(recording.subtitle_playlists) == len(recording.playlists)  # each listing, both playlists
    begins = 0.0
    for index, segment in enumerate(publisher.published):  # each WebVTT segment: the cues heard in it
        expected = timeline.between(begins, begins + segment.duration)
        assert recording.captions[f"subs_{index:03d}.vtt"] == render_vtt(expected) and expected
        begins += segment.duration
