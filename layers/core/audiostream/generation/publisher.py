"""Moves finished segments from the encoder's working directory to S3 while the session runs.

Order is the whole point: init, then each new segment, and only then a playlist that names them, so
a player never sees a segment it cannot fetch. The playlists list only what was uploaded. With
captions, each listing writes the audio playlist first (the first segment waits for nothing else),
then the WebVTT segments of the newly listed segments, then the subtitle playlist naming them.

Every upload is a request someone pays for (S3 bills each PUT), and the stream is made many times
faster than it is heard, so the publisher spends requests only where a listener needs them:

- The first of ffmpeg's short parts goes up alone, as soon as it is finished: first sound is not
  delayed by the parts after it.
- While less than a target duration is uploaded past a listener who started with the first
  segment, the parts finished so far are joined into one segment of up to the target duration
  (fmp4.py) and uploaded at once: no segment waits for a part still being made. Further ahead,
  segments are uploaded only once full.
- While the stream is less than three target durations ahead of that listener (RFC 8216 6.3.3 asks
  players not to start closer than that to a playlist's end), the playlist is written at most once a
  second (sooner when what it names is about to run out): a player reloads a live playlist no sooner
  than its last segment's duration.
  The playlist then names every uploaded segment again once a target duration has passed since it
  was last written (RFC 8216 6.2.2 asks for a new version within 1.5 target durations; a listener at
  twice the speed, or one who seeks ahead, finds all that is made), or once a minute of audio is
  waiting to be named (what a crash of the function could leave unnamed: failed_invocations closes
  the playlist as it was last written).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from ..media.encoder import HlsEncoder
from ..media.fmp4 import NotJoinable, join_segments
from ..media.hls import (
    INIT_NAME,
    PLAYLIST_NAME,
    SUBTITLES_PLAYLIST_NAME,
    Segment,
    media_playlists,
    segment_name,
    subtitle_name,
)
from ..observability import logger
from ..speech.captions import CaptionTimeline, render_vtt
from ..store.media_store import MediaStore
from ..workers import Worker

# Called with (segments listed, audio seconds listed) after each playlist update.
ProgressCallback = Callable[[int, float], None]

# How far a segment's duration may pass the target duration and still round to it (RFC 8216 4.3.3.1).
_ROUNDS_TO_TARGET = 0.49
_LEAD_TARGET_DURATIONS = 3
_MOST_UNLISTED_SECONDS = 60.0
# Near the listener, a playlist at most every second (a player reloads a live playlist no sooner than
# its last segment's duration, 2 s at first), unless what is listed is about to run out.
_NEAR_LISTING_SECONDS = 1.0
_LEAST_AHEAD_SECONDS = 1.0


class SegmentPublisher(Worker):
    def __init__(
        self,
        session_id: str,
        encoder: HlsEncoder,
        media: MediaStore,
        target_duration: int,
        on_listed: ProgressCallback,
        poll_interval: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
        captions: CaptionTimeline | None = None,
    ):
        super().__init__(f"publish-{session_id[:8]}")
        self.session_id = session_id
        self.encoder = encoder
        self.media = media
        self.target_duration = target_duration
        self.on_listed = on_listed
        self.poll_interval = poll_interval
        self.clock = clock
        self.captions = captions  # None: the stream has no subtitle playlist
        self.published: list[Segment] = []  # uploaded, in order; the playlist names the first `listed`
        self.listed = 0
        self.first_listed_at: float | None = None  # wall time the first segment was listed
        self._first_listed_on: float | None = None  # the same, on `clock`
        self._last_listed_on: float | None = None
        self._captioned = 0  # segments whose WebVTT segment is uploaded
        self._waiting: list[Segment] = []  # ffmpeg's finished parts, not uploaded yet
        self._seen = 0  # parts of the encoder's playlist already taken
        self._init_published = False

    @property
    def duration(self) -> float:
        return sum(segment.duration for segment in self.published)

    @property
    def lead(self) -> float:
        return _LEAD_TARGET_DURATIONS * self.target_duration

    def work(self) -> None:
        while not self.stopping.wait(self.poll_interval):
            self.publish_new()

    def stop(self) -> None:
        """Stop watching; then upload whatever the encoder finished since the last look."""
        self.close()
        self.join()
        self.raise_if_failed()
        self.publish_new(ending=True)

    def close_playlist(self) -> None:
        """The final playlist: every uploaded segment and ``#EXT-X-ENDLIST``."""
        self._write_playlists(ended=True)
        self.listed = len(self.published)

    def write_transcript(self) -> bool:
        """transcript.json, once the playlists are closed; answers whether the stream has one."""
        if self.captions is None:
            return False
        self.media.put_transcript(self.session_id, json.dumps(self.captions.transcript(), ensure_ascii=False))
        return True

    def publish_new(self, ending: bool = False) -> int:
        """Upload what is due of the encoder's finished parts and list what a listener needs; when
        ``ending``, upload every part (the final playlist, written by close_playlist, lists them).
        Answers the number of segments uploaded."""
        # init goes up as soon as it is whole, while the first part is still being encoded; a new part
        # implies it (so nothing below names a segment before its init is stored).
        if not self._init_published and self.encoder.init_written():
            self.media.put_media(self.session_id, INIT_NAME, self.encoder.init_path.read_bytes())
            self._init_published = True
        finished = self.encoder.finished_parts()
        # A session that ends before any audio leaves ffmpeg closing one empty part: not worth naming.
        self._waiting += [part for part in finished[self._seen :] if part.duration > 0]
        self._seen = len(finished)
        uploaded = 0
        while self._waiting:
            parts = self._parts_due(ending)
            if not parts:
                break
            bodies = [self.encoder.part_path(part).read_bytes() for part in parts]
            try:
                body = join_segments(bodies)
            except NotJoinable:  # ffmpeg's parts always join; should one not, it goes up alone
                logger.warning("parts could not be joined", exc_info=True)
                parts, body = parts[:1], bodies[0]
            segment = Segment(segment_name(len(self.published)), sum(part.duration for part in parts))
            self.media.put_media(self.session_id, segment.name, body)
            self.published.append(segment)
            del self._waiting[: len(parts)]
            uploaded += 1
            if not self.listed and not ending:
                self._list()  # the first segment is named alone, before the parts that came with it
        if self.listed < len(self.published) and not ending and self._listing_due():
            self._list()
        return uploaded

    def _listing_due(self) -> bool:
        if self._last_listed_on is None:
            return True
        if sum(segment.duration for segment in self.published[self.listed :]) >= _MOST_UNLISTED_SECONDS:
            return True
        since = self.clock() - self._last_listed_on
        ahead = self._ahead(self.listed)
        if ahead < self.lead:
            return since >= _NEAR_LISTING_SECONDS or ahead < _LEAST_AHEAD_SECONDS
        return since >= self.target_duration

    def _ahead(self, segments: int) -> float:
        """How far the first ``segments`` reach past a listener who started with the first segment."""
        heard = 0.0 if self._first_listed_on is None else self.clock() - self._first_listed_on
        return sum(segment.duration for segment in self.published[:segments]) - heard

    def _parts_due(self, ending: bool) -> list[Segment]:
        """The waiting parts to upload now as one segment: the first part alone (first sound); while
        less than a target duration is uploaded past the listener, every waiting part that fits it,
        never waiting for one still being made; further ahead, none until the segment is full."""
        if not self.published:
            return self._waiting[:1]
        longest = self.target_duration + _ROUNDS_TO_TARGET
        parts: list[Segment] = []
        seconds = 0.0
        for part in self._waiting:
            if parts and seconds + part.duration > longest:
                return parts
            parts.append(part)
            seconds += part.duration
        # Less than a segment uploaded past the listener: what is made goes up now, not once full.
        near = self._ahead(len(self.published)) < self.target_duration
        # Every waiting part fits: wait for the next unless none can follow or none would fit.
        next_fits = seconds + parts[-1].duration <= longest
        return parts if ending or near or not next_fits else []

    def _list(self) -> None:
        self._write_playlists(ended=False, audio_listed=self._note_listed)

    def _note_listed(self) -> None:
        """The audio playlist names every uploaded segment: a player can have them (the captions'
        uploads come after, and the progress report need not wait for them)."""
        self.listed = len(self.published)
        self._last_listed_on = self.clock()
        if self.first_listed_at is None:
            self.first_listed_at = time.time()
            self._first_listed_on = self._last_listed_on
        self.on_listed(self.listed, sum(segment.duration for segment in self.published))

    def _write_playlists(self, ended: bool, audio_listed: Callable[[], None] = lambda: None) -> None:
        playlists = media_playlists(self.published, self.target_duration, ended, captions=self.captions is not None)
        for name, text in playlists:
            if name == SUBTITLES_PLAYLIST_NAME:
                self._upload_captions()
            self.media.put_playlist(self.session_id, text, name)
            if name == PLAYLIST_NAME:
                audio_listed()

    def _upload_captions(self) -> None:
        """The WebVTT segment of each uploaded segment that has none yet: the cues heard in it."""
        captions = self.captions
        assert captions is not None, "a subtitle playlist is written only for a session with captions"
        begins = sum(segment.duration for segment in self.published[: self._captioned])
        for index in range(self._captioned, len(self.published)):
            ends = begins + self.published[index].duration
            cues = captions.between(begins, ends)
            self.media.put_captions(self.session_id, subtitle_name(index), render_vtt(cues))
            begins, self._captioned = ends, index + 1
