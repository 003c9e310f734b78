"""One ffmpeg process per session: a continuous PCM stream in, AAC in fMP4 HLS parts out.

All chunks go through the same encoder, so the AAC stream has no gaps or priming clicks at chunk
joins. ffmpeg writes its segments (the publisher's parts) and its own playlist into a working
directory; a part is complete once ffmpeg's playlist names it (the muxer rewrites that playlist by
rename, atomically).
"""

from __future__ import annotations

import fcntl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import PublicError
from ..observability import logger
from .hls import INIT_NAME, Segment, parse_segments

_LOCAL_PLAYLIST = "ffmpeg.m3u8"
# ffmpeg's segments are parts of what the publisher uploads (one part, or several joined), so they
# have names of their own, kept in the working directory.
_PART_PATTERN = "part_%05d.m4s"
# ffmpeg's input pipe holds this much PCM (22 s at 24 kHz), so that a whole sentence is handed over at
# once and ffmpeg encodes it while the engine makes the next. Through the default 64 KiB pipe each
# write waited until ffmpeg had read all but the last 64 KiB, and speaking and encoding took turns:
# five minutes of hibari took 4.4 s instead of 2.8 s. 1 MiB is the most an unprivileged process may
# ask for (fs.pipe-max-size).
INPUT_PIPE_BYTES = 1 << 20


class EncoderError(PublicError):
    pass


@dataclass(frozen=True)
class EncoderRecipe:
    """What an encoder is made of, apart from where it writes: two encoders of one recipe are alike."""

    input_rate: int
    ffmpeg: str = "ffmpeg"
    part_seconds: float = 2.0
    bitrate: str = "64k"
    output_rate: int = 44100

    def encoder(self, workdir: Path) -> HlsEncoder:
        return HlsEncoder(
            workdir,
            self.input_rate,
            ffmpeg=self.ffmpeg,
            part_seconds=self.part_seconds,
            bitrate=self.bitrate,
            output_rate=self.output_rate,
        )


class HlsEncoder:
    def __init__(
        self,
        workdir: Path,
        input_rate: int,
        *,
        ffmpeg: str = "ffmpeg",
        part_seconds: float = 2.0,
        bitrate: str = "64k",
        output_rate: int = 44100,
    ):
        self.workdir = Path(workdir)
        self.command = [
            ffmpeg,
            "-hide_banner",
            "-nostats",
            "-loglevel",
            "error",
            # Raw PCM needs no probing; without these two, ffmpeg holds the first ~50 ms of input back.
            "-probesize",
            "32",
            "-analyzeduration",
            "0",
            "-f",
            "s16le",
            "-ar",
            str(input_rate),
            "-ac",
            "1",
            "-i",
            "pipe:0",
            "-c:a",
            "aac",
            # The constant-quantiser coder: at 64 kbit/s mono it keeps peaks where the PCM put them
            # (the default two-loop coder overshot by up to 3.5 dB, past -1 dBTP, on loud vowels)
            # and encodes in about two thirds of the time.
            "-aac_coder",
            "fast",
            "-b:a",
            bitrate,
            "-ar",
            str(output_rate),
            "-f",
            "hls",
            "-hls_time",
            f"{part_seconds:g}",
            "-hls_segment_type",
            "fmp4",
            "-hls_fmp4_init_filename",
            INIT_NAME,
            "-hls_segment_filename",
            str(self.workdir / _PART_PATTERN),
            "-hls_playlist_type",
            "event",
            "-hls_list_size",
            "0",
            str(self.workdir / _LOCAL_PLAYLIST),
        ]
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr_path = self.workdir / "ffmpeg.log"

    def start(self) -> None:
        try:
            with open(self._stderr_path, "wb") as stderr:
                self._process = subprocess.Popen(
                    self.command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr
                )
        except OSError as error:
            raise EncoderError("ffmpeg could not be started") from error
        try:
            fcntl.fcntl(self._input().fileno(), fcntl.F_SETPIPE_SZ, INPUT_PIPE_BYTES)
        except OSError:  # a user over the kernel's pipe quota keeps the default: slower, not wrong
            logger.warning("ffmpeg's input pipe could not be widened", extra={"bytes": INPUT_PIPE_BYTES})

    def write(self, pcm: bytes) -> None:
        stdin = self._input()
        try:
            stdin.write(pcm)
            stdin.flush()
        except (BrokenPipeError, ValueError) as error:
            self._started().wait()
            raise EncoderError(f"ffmpeg stopped mid-stream ({self._failure()})") from error

    def close(self, timeout: float = 60.0) -> None:
        """End the input and wait until ffmpeg has written its last part."""
        try:
            self._input().close()
        except BrokenPipeError:
            pass
        try:
            code = self._started().wait(timeout=timeout)
        except subprocess.TimeoutExpired as error:
            self.kill()
            raise EncoderError(f"ffmpeg did not finish within {timeout:g} s") from error
        if code != 0:
            raise EncoderError(f"ffmpeg failed ({self._failure()})")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    @property
    def init_path(self) -> Path:
        return self.workdir / INIT_NAME

    def init_written(self) -> bool:
        """ffmpeg closes init.mp4 before it opens the first part: once that exists, init is whole."""
        return (self.workdir / (_PART_PATTERN % 0)).exists()

    def finished_parts(self) -> list[Segment]:
        try:
            return parse_segments((self.workdir / _LOCAL_PLAYLIST).read_text())
        except FileNotFoundError:
            return []

    def part_path(self, part: Segment) -> Path:
        return self.workdir / part.name

    def _started(self) -> subprocess.Popen[bytes]:
        """The ffmpeg process; start() comes first."""
        assert self._process is not None, "the encoder was not started"
        return self._process

    def _input(self) -> IO[bytes]:
        """ffmpeg's standard input, the pipe that start() asks for."""
        stdin = self._started().stdin
        assert stdin is not None, "ffmpeg was started without an input pipe"
        return stdin

    def _failure(self) -> str:
        """The exit code, for the public error; ffmpeg's own last words (paths, options) go to the log."""
        code = self._started().returncode
        try:
            log = self._stderr_path.read_text(errors="replace").strip()
        except OSError:
            log = ""
        logger.warning("ffmpeg failed", extra={"exit_code": code, "stderr": log.splitlines()[-1] if log else None})
        return f"exit code {code}"
