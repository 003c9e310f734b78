"""Text to speech-sized chunks: whole sentences, a short first chunk so audio starts early.

``SentenceChunker`` is incremental (text may arrive in pieces, as from a streaming LLM): ``feed``
returns the chunks that are complete so far and ``finish`` the rest. A sentence longer than the limit
is cut at the last comma-like mark before it, else at the last space, else hard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_SENTENCE_END = re.compile(r"[.!?…。！？]+[\"'”’»)\]]*(?=\s)|[。！？]|\n\s*\n")
_SOFT_BREAK = re.compile(r"[,;:—–]\s")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "vs", "etc", "e.g", "i.e", "no", "mt"})
_SPEAKABLE = re.compile(r"\w")
_WHITESPACE = re.compile(r"\s+")


def _sentence_end(text: str) -> int | None:
    """Index just past the first sentence end in ``text``, skipping abbreviations like "Dr."."""
    for match in _SENTENCE_END.finditer(text):
        words = text[: match.start()].split()
        if match.group().startswith(".") and words and words[-1].lower() in _ABBREVIATIONS:
            continue
        return match.end()
    return None


def _cut_position(text: str, limit: int) -> int:
    """Where to cut ``text`` (longer than ``limit``) so the first part is at most ``limit`` chars."""
    window = text[: limit + 1]
    soft = [m.end() for m in _SOFT_BREAK.finditer(window) if m.start() < limit]
    if soft and soft[-1] > limit // 3:
        return soft[-1]
    space = window.rfind(" ", 0, limit + 1)
    if space > limit // 3:
        return space + 1
    return limit


class SentenceChunker:
    def __init__(self, first_max_chars: int, max_chars: int):
        self.first_max_chars = first_max_chars
        self.max_chars = max_chars
        self._buffer = ""
        self._emitted_any = False

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        return self._drain(final=False)

    def finish(self) -> list[str]:
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[str]:
        chunks = []
        while True:
            buffer = self._buffer
            limit = self.max_chars if self._emitted_any else self.first_max_chars
            end = _sentence_end(buffer)
            if end is not None and len(buffer[:end].strip()) <= limit:
                cut = end
            elif len(buffer.strip()) > limit:
                leading = len(buffer) - len(buffer.lstrip())
                cut = leading + _cut_position(buffer[leading:], limit)
            elif final and buffer:
                cut = len(buffer)
            else:
                break
            self._buffer = buffer[cut:]
            chunk = _WHITESPACE.sub(" ", buffer[:cut]).strip()
            if _SPEAKABLE.search(chunk):
                chunks.append(chunk)
                self._emitted_any = True
        return chunks


def pack_chunks(chunks: list[str], max_chars: int, keep_first_short: bool = True) -> list[str]:
    """Join consecutive chunks up to ``max_chars`` each; the first stays alone if ``keep_first_short``."""
    packed = chunks[:1] if keep_first_short else []
    current = ""
    for chunk in chunks[len(packed) :]:
        if current and len(current) + 1 + len(chunk) > max_chars:
            packed.append(current)
            current = chunk
        else:
            current = f"{current} {chunk}" if current else chunk
    if current:
        packed.append(current)
    return packed


def chunks_of_stream(pieces: Iterable[str], first_max_chars: int, max_chars: int) -> Iterator[str]:
    """Chunks of a text that arrives in pieces, each yielded as soon as it is complete."""
    chunker = SentenceChunker(first_max_chars, max_chars)
    for piece in pieces:
        yield from chunker.feed(piece)
    yield from chunker.finish()


def split_into_chunks(text: str, first_max_chars: int, max_chars: int) -> list[str]:
    """All chunks of a text that is known in full."""
    chunker = SentenceChunker(first_max_chars, max_chars)
    return pack_chunks(chunker.feed(text) + chunker.finish(), max_chars)
