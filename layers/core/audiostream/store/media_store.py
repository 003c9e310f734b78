"""Session media in S3 under ``<media_prefix>/<session_id>/``, with the headers the CDN and players need."""

from __future__ import annotations

from botocore.exceptions import ClientError

from .. import aws
from ..config import Settings
from ..media.hls import PLAYLIST_NAME, TRANSCRIPT_NAME, media_playlists

PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
MEDIA_CONTENT_TYPE = "audio/mp4"
CAPTIONS_CONTENT_TYPE = "text/vtt; charset=utf-8"
TRANSCRIPT_CONTENT_TYPE = "application/json"
# The playlist grows while the session runs; init and segments never change once written.
PLAYLIST_CACHE_CONTROL = "max-age=1"
IMMUTABLE_CACHE_CONTROL = "max-age=31536000, immutable"


class MediaStore:
    def __init__(self, bucket: str, prefix: str):
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> MediaStore:
        return cls(settings.storage.media_bucket, settings.storage.media_prefix)

    def key(self, session_id: str, name: str) -> str:
        return f"{self.prefix}/{session_id}/{name}"

    def url(self, session_id: str, name: str) -> str:
        """The URL path of a session's file, relative to the origin that serves page, API and media."""
        return "/" + self.key(session_id, name)

    def playlist_url(self, session_id: str, name: str = PLAYLIST_NAME) -> str:
        return self.url(session_id, name)

    def put_playlist(self, session_id: str, text: str, name: str = PLAYLIST_NAME) -> None:
        self._put(session_id, name, text.encode(), PLAYLIST_CONTENT_TYPE, PLAYLIST_CACHE_CONTROL)

    def put_closed_empty_playlists(self, session_id: str, target_duration: int, captions: bool) -> None:
        """Every media playlist of a session that ends with nothing published: empty, with ENDLIST."""
        for name, text in media_playlists([], target_duration, ended=True, captions=captions):
            self.put_playlist(session_id, text, name)

    def get_playlist(self, session_id: str, name: str = PLAYLIST_NAME) -> str | None:
        try:
            stored = aws.s3().get_object(Bucket=self.bucket, Key=self.key(session_id, name))
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        text: str = stored["Body"].read().decode()
        return text

    def put_media(self, session_id: str, name: str, body: bytes) -> None:
        self._put(session_id, name, body, MEDIA_CONTENT_TYPE, IMMUTABLE_CACHE_CONTROL)

    def put_captions(self, session_id: str, name: str, text: str) -> None:
        self._put(session_id, name, text.encode(), CAPTIONS_CONTENT_TYPE, IMMUTABLE_CACHE_CONTROL)

    def put_download(self, session_id: str, name: str, body: bytes) -> None:
        """The file to keep: a browser following its link saves it rather than playing it in place."""
        disposition = f'attachment; filename="audiostream-{session_id[:8]}.m4a"'
        self._put(session_id, name, body, MEDIA_CONTENT_TYPE, IMMUTABLE_CACHE_CONTROL, ContentDisposition=disposition)

    def put_transcript(self, session_id: str, text: str) -> None:
        """Written once, when the session ends."""
        self._put(session_id, TRANSCRIPT_NAME, text.encode(), TRANSCRIPT_CONTENT_TYPE, IMMUTABLE_CACHE_CONTROL)

    def _put(
        self, session_id: str, name: str, body: bytes, content_type: str, cache_control: str, **headers: str
    ) -> None:
        aws.s3().put_object(
            Bucket=self.bucket,
            Key=self.key(session_id, name),
            Body=body,
            ContentType=content_type,
            CacheControl=cache_control,
            **headers,
        )
