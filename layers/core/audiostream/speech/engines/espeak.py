"""espeak-ng: offline, fast, many languages; the default of the local stack and the tests.

It speaks through libespeak-ng where the library is installed, which says where each word begins, so
the captions are timed by the speech itself; else it runs the espeak-ng program (same audio, no marks).
"""

from __future__ import annotations

import re
import struct
import subprocess
import threading
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import pairwise

from ...observability import logger
from ..chunking import split_into_sentences
from . import espeak_library
from .base import Mark, Speech, TtsEngine, TtsError

_TOKEN = re.compile(r"\S+")
_reported: set[str] = set()  # the ways of speaking already logged
_unusable: set[str] = set()  # libraries that failed to load or start: the program speaks instead
_report_lock = threading.Lock()


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
def _version(binary: str) -> str:
    return _voice_listing(binary, "--version").strip()


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


def _log_once(way: str, message: str) -> None:
    with _report_lock:
        if way in _reported:
            return
        _reported.add(way)
    logger.info(message)


def _marks(text: str, synthesis: espeak_library.Synthesis) -> tuple[tuple[Mark, ...], tuple[Mark, ...]]:
    """The sentences of ``text`` as the chunker finds them, and their words as written (what is between
    spaces, within a sentence: "你好。再见。" is two words), where they begin in the speech. A sentence
    begins with its first word, which espeak places at the end of the pause before it; the first
    sentence begins the speech."""
    sentences, cursor = split_into_sentences(text), 0
    tokens: list[tuple[int, int]] = []  # each word's start and end in the text
    firsts: list[int] = []  # each sentence's first token
    for sentence in sentences:
        start = text.index(sentence, cursor)
        cursor = start + len(sentence)
        firsts.append(len(tokens))
        tokens += [(start + match.start(), start + match.end()) for match in _TOKEN.finditer(sentence)]
    samples = _word_samples(tokens, synthesis.words, len(synthesis.pcm) // 2)
    words = tuple(Mark(sample, text[start:end]) for sample, (start, end) in zip(samples, tokens, strict=True))
    starts = (words[first].sample if number else 0 for number, first in enumerate(firsts))
    return tuple(map(Mark, starts, sentences)), words


def _word_samples(tokens: list[tuple[int, int]], events: Iterable[espeak_library.Word], total: int) -> list[int]:
    """Where each token begins: at the first word event inside it. espeak reports some words at the
    space before them ("etc. are"), and none for others (the "am" of "I am", a lone "—"): those are
    placed between their neighbours by their share of the characters."""
    earliest: dict[int, int] = {}  # character position -> the first sample a word event gives it
    for event in events:
        if event.length > 0:  # one of length 0 repeats an old position
            earliest[event.position] = min(event.sample, earliest.get(event.position, event.sample))
    found: list[int | None] = []
    gap = 0  # where the space before the token begins
    for start, end in tokens:
        inside = [earliest[at] for at in range(start, end) if at in earliest]
        before = [earliest[at] for at in range(gap, start) if at in earliest]
        found.append(min(inside or before, default=None))
        gap = end
    anchors, last = [(-1, 0)], -1
    for index, sample in enumerate(found):
        if sample is not None and last < sample < total:  # an event out of order is not trusted
            anchors.append((index, sample))
            last = sample
    anchors.append((len(tokens), total))
    samples = [0] * len(tokens)
    for (left, begin), (right, end) in pairwise(anchors):
        span = range(max(left, 0), right)
        characters = sum(tokens[index][1] - tokens[index][0] for index in span) or 1
        said = 0
        for index in span:
            samples[index] = begin + (end - begin) * said // characters
            said += tokens[index][1] - tokens[index][0]
    for index in range(1, len(samples)):
        samples[index] = max(samples[index], samples[index - 1] + 1)
    return samples


class EspeakEngine(TtsEngine):
    name = "espeak"
    sample_rate = 22050

    def __init__(self, binary: str = "espeak-ng", timeout: float = 30.0, library: str | None = "espeak-ng"):
        """``library``: the name ctypes.util.find_library knows libespeak-ng by (None: always run ``binary``).
        It speaks for the espeak-ng of PATH only: a program named by its path is run as it is, since the
        system's library may not be its library, nor read its data."""
        self.binary = binary
        self.timeout = timeout
        self.library = library if binary == "espeak-ng" else None

    def languages(self) -> dict[str, str]:
        return _installed_languages(self.binary)

    def version(self) -> str:
        return _version(self.binary)

    def voices(self) -> frozenset[str]:
        return _installed_variants(self.binary)

    def synthesize(self, text: str, lang: str, voice: str | None) -> bytes:
        return b"".join(speech.pcm for speech in self.stream(text, lang, voice))

    def stream(self, text: str, lang: str, voice: str | None) -> Iterator[Speech]:
        name = f"{lang}+{voice}" if voice else lang
        path = espeak_library.find_library(self.library) if self.library else None
        if path is not None and path not in _unusable:
            try:
                synthesis = espeak_library.synthesize(path, text, name, self.timeout)
            except espeak_library.VoiceNotFound:
                raise TtsError(f"espeak-ng has no voice {name!r}") from None
            except espeak_library.TimedOut:
                raise TtsError(f"espeak-ng took longer than {self.timeout:g} s") from None
            except espeak_library.LibraryError as error:
                _unusable.add(path)
                logger.warning("libespeak-ng is not usable: running the espeak-ng program", extra={"why": str(error)})
            else:
                if not synthesis.pcm:
                    raise TtsError("espeak-ng made no audio")
                if synthesis.sample_rate != self.sample_rate:
                    raise TtsError(
                        f"espeak-ng produced {synthesis.sample_rate} Hz audio, expected {self.sample_rate} Hz"
                    )
                _log_once("library", f"espeak-ng speaks through {path}, with word timing")
                sentences, words = _marks(text, synthesis)
                yield Speech(synthesis.pcm, sentences, words)
                return
        _log_once("program", f"espeak-ng speaks through the program {self.binary}, without word timing")
        yield Speech(self._run_program(text, lang, voice))

    def _run_program(self, text: str, lang: str, voice: str | None) -> bytes:
        # The text goes through stdin, never argv, so it can never be read as an option.
        command = [self.binary, "-v", f"{lang}+{voice}" if voice else lang, "-b", "1", "--stdout"]
        try:
            result = subprocess.run(command, input=text.encode(), capture_output=True, timeout=self.timeout)
        except subprocess.TimeoutExpired as error:
            raise TtsError(f"espeak-ng took longer than {self.timeout:g} s") from error
        except OSError as error:
            raise TtsError("espeak-ng could not be started") from error
        if result.returncode != 0 or not result.stdout:
            # espeak-ng exits 1 for an unknown voice, 0 with no output for an empty text; stderr says why.
            logger.warning("espeak-ng failed", extra={"stderr": result.stderr.decode(errors="replace").strip()})
            raise TtsError(f"espeak-ng made no audio (exit code {result.returncode})")
        rate, pcm = read_wav_pcm(result.stdout)
        if rate != self.sample_rate:
            raise TtsError(f"espeak-ng produced {rate} Hz audio, expected {self.sample_rate} Hz")
        return pcm
