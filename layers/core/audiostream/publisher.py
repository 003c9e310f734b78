"""Moves finished segments from the encoder's working directory to S3 while the session runs.

Order is the whole point: init, then each new segment, and only then a playlist that names them, so
a player never sees a segment it cannot fetch. The playlist lists only what was uploaded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .encoder import HlsEncoder
from .hls import INIT_NAME, Segment, render_playlist
from .storage import MediaStore

# Called with (segments published, audio seconds published) after each playlist update.
ProgressCallback = Callable[[int, float], None]


class SegmentPublisher:
    def __init__(
        self,
        session_id: str,
        encoder: HlsEncoder,
        media: MediaStore,
        target_duration: int,
        on_published: ProgressCallback,
        poll_interval: float = 0.02,
    ):
        self.session_id = session_id
        self.encoder = encoder
        self.media = media
        self.target_duration = target_duration
        self.on_published = on_published
        self.poll_interval = poll_interval
        self.published: list[Segment] = []
        self.first_published_at: float | None = None
        self._seen = 0  # segments of the encoder's playlist already handled
        self._init_published = False
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"publish-{session_id[:8]}", daemon=True)

    @property
    def duration(self) -> float:
        return sum(segment.duration for segment in self.published)

    def start(self) -> None:
        self._thread.start()

    def raise_if_failed(self) -> None:
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Stop watching; then publish whatever the encoder finished since the last look."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()
        self.raise_if_failed()
        self.publish_new()

    def close_playlist(self) -> None:
        """The final playlist: every published segment and ``#EXT-X-ENDLIST``."""
        self.media.put_playlist(self.session_id, render_playlist(self.published, self.target_duration, ended=True))

    def publish_new(self) -> int:
        # init goes up as soon as it is whole, while segment 0 is still being encoded; a new segment
        # implies it (so the loop below never names a segment before its init is stored).
        if not self._init_published and self.encoder.init_written():
            self.media.put_media(self.session_id, INIT_NAME, self.encoder.init_path.read_bytes())
            self._init_published = True
        finished = self.encoder.finished_segments()
        # A session that ends before any audio leaves ffmpeg closing one empty segment: not worth naming.
        new = [segment for segment in finished[self._seen :] if segment.duration > 0]
        self._seen = len(finished)
        if not new:
            return 0
        for segment in new:
            self.media.put_media(self.session_id, segment.name, self.encoder.segment_path(segment).read_bytes())
            self.published.append(segment)
        self.media.put_playlist(self.session_id, render_playlist(self.published, self.target_duration, ended=False))
        if self.first_published_at is None:
            self.first_published_at = time.time()
        self.on_published(len(self.published), self.duration)
        return len(new)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.poll_interval):
                self.publish_new()
        except BaseException as error:  # handed to the pipeline, which ends the session with it
            self.error = error
