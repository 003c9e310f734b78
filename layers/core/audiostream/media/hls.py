"""The HLS playlists we publish: the audio media playlist (fMP4 segments, EVENT type, closed with ENDLIST
when the session ends), its subtitle twin (one WebVTT segment per audio segment) and the multivariant
playlist that ties the two together."""

from __future__ import annotations

from dataclasses import dataclass

import m3u8

# A session's files, named once here: the playlists, the fMP4 init section, the segments (see
# segment_name and subtitle_name), the transcript and the file to keep.
PLAYLIST_NAME = "audio.m3u8"
INIT_NAME = "init.mp4"
_SEGMENT_STEM, _SEGMENT_DIGITS, _SEGMENT_SUFFIX = "audio_", 3, ".m4s"
SUBTITLES_PLAYLIST_NAME = "subs.m3u8"
MULTIVARIANT_NAME = "master.m3u8"
TRANSCRIPT_NAME = "transcript.json"
DOWNLOAD_NAME = "audio.m4a"
SUBTITLES_GROUP = "subs"
AAC_LC_CODEC = "mp4a.40.2"


def segment_name(index: int) -> str:
    return f"{_SEGMENT_STEM}{index:0{_SEGMENT_DIGITS}d}{_SEGMENT_SUFFIX}"


def subtitle_name(index: int) -> str:
    """The WebVTT segment that carries the captions of audio segment ``index``."""
    return f"subs_{index:0{_SEGMENT_DIGITS}d}.vtt"


@dataclass(frozen=True)
class Segment:
    name: str
    duration: float


def render_playlist(segments: list[Segment], target: int, ended: bool, init: str | None = INIT_NAME) -> str:
    """A media playlist; ``init`` None for one of WebVTT segments, which have no initialisation section."""
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        # Listeners want the story from its first word, not from the live edge where players join
        # an open playlist by default (Safari, hls.js without startPosition). The stream is made
        # faster than real time, so starting three target durations from the end is not needed.
        "#EXT-X-START:TIME-OFFSET=0,PRECISE=YES",
    ]
    if segments and init:
        lines.append(f'#EXT-X-MAP:URI="{init}"')
    for segment in segments:
        lines.append(f"#EXTINF:{segment.duration:.6f},")
        lines.append(segment.name)
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def parse_segments(playlist_text: str) -> list[Segment]:
    """The segments of a media playlist (as ffmpeg's hls muxer writes it), in order."""
    return [Segment(segment.uri, segment.duration) for segment in m3u8.loads(playlist_text).segments]


def close_playlist(playlist_text: str) -> str:
    """The same media playlist (segments, target duration, map or none) with ``#EXT-X-ENDLIST``."""
    playlist = m3u8.loads(playlist_text)
    init = playlist.segment_map[0].uri if playlist.segment_map else None
    return render_playlist(parse_segments(playlist_text), int(playlist.target_duration or 1), ended=True, init=init)


def media_playlists(segments: list[Segment], target: int, ended: bool, captions: bool) -> list[tuple[str, str]]:
    """(name, text) of a session's media playlists over ``segments``, in the order they are written:
    the audio, then (with ``captions``) its subtitle twin, which names only captions already uploaded."""
    playlists = [(PLAYLIST_NAME, render_playlist(segments, target, ended))]
    if captions:
        playlists.append((SUBTITLES_PLAYLIST_NAME, render_subtitles_playlist(segments, target, ended)))
    return playlists


def render_subtitles_playlist(segments: list[Segment], target: int, ended: bool) -> str:
    """The subtitle twin of the audio playlist over ``segments``: same durations, one WebVTT each."""
    twins = [Segment(subtitle_name(index), segment.duration) for index, segment in enumerate(segments)]
    return render_playlist(twins, target, ended, init=None)


def variant_bandwidth(aac_bitrate: str) -> int:
    """BANDWIDTH of the audio variant, in bit/s: the AAC bit rate ("64k") and a tenth more for the
    fMP4 framing (each fragment's moof), so that no segment's peak rate passes it (RFC 8216 4.3.4.2)."""
    return int(aac_bitrate.removesuffix("k")) * 1100


def render_multivariant(language: str, language_name: str, bandwidth: int) -> str:
    """The multivariant playlist: the audio as the one variant, the captions as its subtitle rendition.
    hls.js times cues against the main variant's media, so the audio must be that variant."""
    language_name = language_name.replace('"', "'")  # a quoted-string holds no double quote (RFC 8216 4.2)
    return (
        "\n".join(
            [
                "#EXTM3U",
                "#EXT-X-VERSION:7",
                "#EXT-X-INDEPENDENT-SEGMENTS",
                f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{SUBTITLES_GROUP}",NAME="{language_name}",'
                f'LANGUAGE="{language}",DEFAULT=YES,AUTOSELECT=YES,URI="{SUBTITLES_PLAYLIST_NAME}"',
                f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="{AAC_LC_CODEC}",SUBTITLES="{SUBTITLES_GROUP}"',
                PLAYLIST_NAME,
            ]
        )
        + "\n"
    )
