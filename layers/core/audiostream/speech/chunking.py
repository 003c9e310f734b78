"""Text to speech-sized chunks: whole sentences, a short first chunk so audio starts early.

``SentenceChunker`` is incremental (text may arrive in pieces, as from a streaming LLM): ``feed``
returns the chunks that are complete so far and ``finish`` the rest. A sentence longer than the limit
is cut at the last comma-like mark before it, else at the last space, else hard.

Every step looks at most one chunk's length of text ahead, and text already cut off is never looked
at again, so the work is linear in the length of the text whatever it holds (a public endpoint is fed
runs of thousands of dots, and a backtracking scan over them took seconds).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_STOPS = ".!?…。！？"
# A run of sentence stops (and closing quotes) followed by a space; the look-behind makes a run match
# only from its first character, so a long run is scanned once, not once per character.
_SENTENCE_END = re.compile(rf"(?<![{_STOPS}])[{_STOPS}]+[\"'”’»)\]]*(?=\s)|[。！？]|\n[^\S\n]*\n")
_SOFT_BREAK = re.compile(r"[,;:—–]\s")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "vs", "etc", "e.g", "i.e", "no", "mt"})
_LONGEST_ABBREVIATION = max(map(len, _ABBREVIATIONS))
# What may end a text that a sentence end is still waiting for: it is scanned again when more arrives.
_UNDECIDED = frozenset(_STOPS + "\"'”’»)]") | frozenset(" \t\r\n\f\v")
_SPEAKABLE = re.compile(r"\w")
_NOT_SPACE = re.compile(r"\S")
_WHITESPACE = re.compile(r"\s+")


def has_speakable(text: str) -> bool:
    """Whether ``text`` has anything a voice would say (a letter or a digit)."""
    return _SPEAKABLE.search(text) is not None


def _follows_abbreviation(text: str, stop: int) -> bool:
    """Whether the word just before ``text[stop]`` (a full stop) is an abbreviation like "Dr"."""
    begin = max(0, stop - _LONGEST_ABBREVIATION - 1)
    before = text[begin:stop]
    if not before or before[-1].isspace():
        return False
    return before.split()[-1].lower() in _ABBREVIATIONS


def _sentence_end(text: str, start: int, end: int, limit: int) -> int | None:
    """Index just past the first sentence end in ``text[start:end]``, if it is at most ``limit``."""
    for match in _SENTENCE_END.finditer(text, start, end):
        if match.group().startswith(".") and _follows_abbreviation(text, match.start()):
            continue
        return match.end() if match.end() <= limit else None
    return None


def _cut_position(window: str, limit: int) -> int:
    """Where to cut a text of more than ``limit`` chars (``window`` is its first ``limit + 1``) so that
    the first part is at most ``limit`` chars."""
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
        self._scanned_to = 0  # in the buffer: no sentence end starts before this
        self._emitted_any = False

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        return self._drain(final=False)

    def finish(self) -> list[str]:
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[str]:
        chunks = []
        buffer, start = self._buffer, 0
        while True:
            first_letter = _NOT_SPACE.search(buffer, start)
            if first_letter is None:
                start = len(buffer)
                break
            start = first_letter.start()
            limit = self.max_chars if self._emitted_any else self.first_max_chars
            window_end = min(len(buffer), start + limit + 1)
            cut = _sentence_end(buffer, max(start, self._scanned_to), window_end, start + limit)
            if cut is None:
                if _NOT_SPACE.search(buffer, start + limit):  # more than ``limit`` to speak
                    cut = start + _cut_position(buffer[start:window_end], limit)
                elif final:
                    cut = len(buffer)
                else:  # the sentence may go on in the next piece
                    self._scanned_to = _undecided_tail(buffer, start)
                    break
            chunk = _WHITESPACE.sub(" ", buffer[start:cut]).strip()
            start = cut
            if has_speakable(chunk):
                chunks.append(chunk)
                self._emitted_any = True
        self._scanned_to = max(0, self._scanned_to - start)
        self._buffer = buffer[start:]
        return chunks


def _undecided_tail(text: str, start: int) -> int:
    """Where the run of stops, quotes and spaces that ends ``text`` begins (not before ``start``)."""
    tail = len(text)
    while tail > start and text[tail - 1] in _UNDECIDED:
        tail -= 1
    return tail


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


def split_into_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as the chunker finds them, stripped (one linear scan)."""
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.group().startswith(".") and _follows_abbreviation(text, match.start()):
            continue
        if sentence := text[start : match.end()].strip():
            sentences.append(sentence)
        start = match.end()
    if tail := text[start:].strip():
        sentences.append(tail)
    return sentences


def first_part(text: str, max_chars: int) -> str:
    """At most ``max_chars`` of ``text``, cut where ``SentenceChunker`` would cut an overlong sentence."""
    if len(text) <= max_chars:
        return text
    return text[: _cut_position(text[: max_chars + 1], max_chars)].rstrip()
