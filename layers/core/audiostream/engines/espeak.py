"""espeak-ng: offline, fast, many languages; the default of the local stack and the tests."""

from __future__ import annotations

import re
import struct
import subprocess
from functools import lru_cache

from ..observability import logger
from .base import TtsEngine, TtsError


def read_wav_pcm(wav: bytes) -> tuple[int, bytes]:
    """(sample rate, PCM data) of a 16-bit mono WAV; tolerates the bogus sizes of a streamed header."""
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise TtsError("espeak-ng did not produce a WAV stream")
    position, rate = 12, None
    while position + 8 <= len(wav):
        chunk_id, size = wav[position : position + 4], struct.unpack("<I", wav[position + 4 : position + 8])[0]
        if chunk_id == b"fmt ":
            channels, rate = struct.unpack("<HI", wav[position + 10 : position + 16])
            bits = struct.unpack("<H", wav[position + 22 : position + 24])[0]
            if channels != 1 or bits != 16:
                raise TtsError(f"unexpected WAV format: {channels} channels, {bits} bits")
        elif chunk_id == b"data":
            if rate is None:
                raise TtsError("WAV data before its format")
            return rate, wav[position + 8 :]
        position += 8 + size
    raise TtsError("WAV stream without audio data")


def _voice_listing(binary: str, option: str) -> str:
    try:
        return subprocess.run([binary, option], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise TtsError("espeak-ng is not usable here") from error


@lru_cache(maxsize=4)
def _installed_variants(binary: str) -> frozenset[str]:
    # The File column names each variant as "!v/<name>"; "-v en+<name>" selects it.
    return frozenset(
        columns[4].removeprefix("!v/")
        for columns in (line.split() for line in _voice_listing(binary, "--voices=variant").splitlines()[1:])
        if len(columns) > 4
    )


@lru_cache(maxsize=4)
def _installed_languages(binary: str) -> dict[str, str]:
    # Columns: Pty Language Age/Gender VoiceName File, then "(code priority)" pairs naming the
    # further languages a voice speaks: "en-gb ... (en 2)" makes plain "en" usable too.
    names: dict[str, str] = {}
    for line in _voice_listing(binary, "--voices").splitlines()[1:]:
        columns = line.split()
        if len(columns) < 4:
            continue
        name = columns[3].replace("_", " ")
        names[columns[1].lower()] = name
        for code in re.findall(r"\((\S+) \d+\)", line):
            names.setdefault(code.lower(), name.split(" (")[0])
    return names


class EspeakEngine(TtsEngine):
    name = "espeak"
    sample_rate = 22050

    def __init__(self, binary: str = "espeak-ng", timeout: float = 30.0):
        self.binary = binary
        self.timeout = timeout

    def languages(self) -> dict[str, str]:
        return _installed_languages(self.binary)

    def voices(self) -> frozenset[str]:
        return _installed_variants(self.binary)

    def synthesize(self, text: str, lang: str, voice: str | None) -> bytes:
        # The text goes through stdin, never argv, so it can never be read as an option.
        command = [self.binary, "-v", f"{lang}+{voice}" if voice else lang, "-b", "1", "--stdout"]
        try:
            result = subprocess.run(command, input=text.encode(), capture_output=True, timeout=self.timeout)
        except subprocess.TimeoutExpired as error:
            raise TtsError(f"espeak-ng took longer than {self.timeout:g} s") from error
        except OSError as error:
            raise TtsError("espeak-ng could not be started") from error
        if result.returncode != 0 or not result.stdout:
            # espeak-ng exits 0 with no output for an unknown voice; its stderr says why.
            logger.warning("espeak-ng failed", extra={"stderr": result.stderr.decode(errors="replace").strip()})
            raise TtsError(f"espeak-ng made no audio (exit code {result.returncode})")
        rate, pcm = read_wav_pcm(result.stdout)
        if rate != self.sample_rate:
            raise TtsError(f"espeak-ng produced {rate} Hz audio, expected {self.sample_rate} Hz")
        return pcm
