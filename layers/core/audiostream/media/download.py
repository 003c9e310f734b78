"""The file to keep: once a session has succeeded, its stream remuxed once, without re-encoding, into
one progressive MP4 (``audio.m4a``: AAC, ``moov`` before ``mdat``), which any player takes whole.

ffmpeg's parts, each a fragment of one stream after the init segment, are already one fragmented
MP4 when laid end to end; ffmpeg copies its AAC frames into a plain MP4 and moves the index to the
front (``+faststart``), so a browser can start playing before the file has arrived.
"""

from __future__ import annotations

import subprocess

from .encoder import HlsEncoder
from .hls import DOWNLOAD_NAME


class DownloadFailed(Exception):
    pass


def remuxed_stream(encoder: HlsEncoder, ffmpeg: str, timeout: float = 60.0) -> bytes:
    """The whole stream the encoder wrote, as one progressive MP4."""
    whole = encoder.workdir / "whole.mp4"
    with whole.open("wb") as out:
        out.write(encoder.init_path.read_bytes())
        for part in encoder.finished_parts():
            out.write(encoder.part_path(part).read_bytes())
    target = encoder.workdir / DOWNLOAD_NAME
    command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(whole)]
    command += ["-map", "0:a", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(target)]
    try:
        subprocess.run(command, capture_output=True, timeout=timeout, check=True)
    except subprocess.CalledProcessError as error:
        detail = error.stderr.decode(errors="replace")[-500:]
        raise DownloadFailed(f"ffmpeg could not remux the stream: {detail}") from error
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DownloadFailed(f"ffmpeg could not remux the stream: {error}") from error
    return target.read_bytes()
