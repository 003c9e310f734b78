"""Sessions as start leaves them, and what generate published for them, read back from storage."""

from __future__ import annotations

import m3u8

from audiostream import aws
from audiostream.api.start import start_session
from audiostream.api.start_request import StartRequest
from audiostream.store.media_store import IMMUTABLE_CACHE_CONTROL

from .audio import probe_hls


class RecordingInvoker:
    def __init__(self):
        self.events = []

    def invoke(self, event):
        self.events.append(event)


def started(settings, sessions, media, text, engine="espeak") -> dict:
    """A session as start leaves it: PENDING, empty playlist; returns the event start gave generate."""
    invoker = RecordingInvoker()
    request = StartRequest(text=text, text_given=True, lang="en", engine=engine, voice=None)
    start_session(request, settings, sessions, media, invoker)
    return invoker.events[0]


def stored(settings, session_id, name):
    return aws.s3().get_object(
        Bucket=settings.storage.media_bucket, Key=f"{settings.storage.media_prefix}/{session_id}/{name}"
    )


def playlist_of(settings, session_id) -> m3u8.M3U8:
    return m3u8.loads(stored(settings, session_id, "audio.m3u8")["Body"].read().decode())


def published_audio(settings, session_id) -> tuple[m3u8.M3U8, dict]:
    playlist = playlist_of(settings, session_id)
    init = stored(settings, session_id, "init.mp4")["Body"].read()
    segments = []
    for segment in playlist.segments:
        obj = stored(settings, session_id, segment.uri)
        assert obj["ContentType"] == "audio/mp4"
        assert obj["CacheControl"] == IMMUTABLE_CACHE_CONTROL
        segments.append(obj["Body"].read())
    return playlist, probe_hls(init, segments)
