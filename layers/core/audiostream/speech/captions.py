"""Captions from what was spoken: sentence cues timed by the PCM fed to the encoder, rendered as the
WebVTT segments of an HLS subtitle playlist.

A cue's start is measured, not estimated: it is the number of samples fed to the encoder before its
sentence, plus the AAC encoder's delay (ffmpeg writes no edit list, so players play its 1024 priming
samples). Where the engine says where its sentences begin (hibari makes one piece per sentence;
espeak-ng's library reports sentence and word events at sample positions), the cues start there;
where it does not (gTTS and Polly speak a whole chunk), the piece's time is shared among its
sentences by their number of characters: a stated rule, exact at each piece's edges. A word ends
where the next begins, the last where its sentence does.

Each WebVTT segment carries every cue that overlaps it, with the same times, text and id in each, so
that a player that loads only the segment it seeks to still shows the sentence (RFC 8216 3.5) and
hls.js, which drops a cue whose id it has, shows it once. ``X-TIMESTAMP-MAP`` ties cue time 0 to the
audio's media time 0 (ffmpeg's first ``tfdt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .chunking import split_into_sentences
from .engines.base import Mark

TIMESTAMP_MAP = "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000"
AAC_PRIMING_SAMPLES = 1024  # what ffmpeg's AAC encoder puts before the first sample it was given


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Cue:
    number: int  # the cue's id: the same in every segment that repeats it
    start: float  # seconds into the stream, as heard
    end: float
    text: str
    words: tuple[Word, ...] = ()  # where the engine reported them


class CaptionTimeline:
    """The cues of one session, in speaking order, from the pieces of PCM the encoder is fed."""

    def __init__(self, sample_rate: int, output_rate: int):
        self.sample_rate = sample_rate
        self._delay = AAC_PRIMING_SAMPLES / output_rate
        self._fed = 0  # samples fed so far
        self.cues: list[Cue] = []

    def add(self, samples: int, text: str, sentences: Sequence[Mark] = (), words: Sequence[Mark] = ()) -> None:
        """A piece of ``samples`` samples that speaks ``text``, with the sentences and words the
        engine placed in it (none: its time is shared among the sentences of ``text``)."""
        start = self._fed
        self._fed += samples
        if samples <= 0:
            return
        marks = [mark for mark in (sentences or self._shared(samples, text)) if mark.text.strip()]
        for index, mark in enumerate(marks):
            if not 0 <= mark.sample < samples:
                continue  # not heard: the audio budget cut the piece before it
            sentence_end = marks[index + 1].sample if index + 1 < len(marks) else None
            end = samples if sentence_end is None or sentence_end > samples else sentence_end
            inside = [word for word in words if mark.sample <= word.sample < end and word.text.strip()]
            timed = tuple(
                Word(
                    self._seconds(start + word.sample),
                    self._seconds(start + (inside[number + 1].sample if number + 1 < len(inside) else end)),
                    word.text.strip(),
                )
                for number, word in enumerate(inside)
            )
            text = " ".join(mark.text.split())
            cut = [word for word in words if end <= word.sample < (sentence_end or word.sample + 1)]
            if cut and timed:  # the budget cut this sentence: the cue says what of it was spoken
                text = " ".join(word.text for word in timed)
            self.cues.append(
                Cue(len(self.cues), self._seconds(start + mark.sample), self._seconds(start + end), text, timed)
            )

    @staticmethod
    def _shared(samples: int, text: str) -> list[Mark]:
        sentences = [sentence for sentence in split_into_sentences(text) if sentence.strip()]
        total = sum(len(sentence) for sentence in sentences)
        marks, position = [], 0
        for sentence in sentences:
            marks.append(Mark(samples * position // total, sentence))
            position += len(sentence)
        return marks

    def _seconds(self, sample: int) -> float:
        return round(sample / self.sample_rate + self._delay, 3)

    def between(self, start: float, end: float) -> list[Cue]:
        """The cues heard, even in part, from ``start`` to ``end`` (seconds into the stream)."""
        return [cue for cue in self.cues if cue.start < end and cue.end > start]

    def transcript(self) -> dict[str, list[dict[str, object]]]:
        """What transcript.json holds: every sentence, with its words where known, in seconds."""
        return {
            "sentences": [
                {
                    "start": cue.start,
                    "end": cue.end,
                    "text": cue.text,
                    "words": [{"start": word.start, "end": word.end, "text": word.text} for word in cue.words],
                }
                for cue in self.cues
            ],
        }


def _timestamp(seconds: float) -> str:
    milliseconds = round(seconds * 1000)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _escaped(text: str) -> str:
    # WebVTT cue text: no blank line or "-->" may appear, and & < > are markup.
    return " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cue_text(cue: Cue) -> str:
    """The sentence; with its words known, each word after the first preceded by the time it is
    spoken (WebVTT's cue timestamps, which players use to show the words said so far)."""
    if not cue.words:
        return _escaped(cue.text)
    timed = [_escaped(cue.words[0].text)]
    timed += [f"<{_timestamp(word.start)}>{_escaped(word.text)}" for word in cue.words[1:]]
    return " ".join(timed)


def render_vtt(cues: list[Cue]) -> str:
    """One WebVTT segment holding ``cues`` (a segment without any still has its header)."""
    blocks = [f"WEBVTT\n{TIMESTAMP_MAP}\n"]
    for cue in cues:
        blocks.append(f"{cue.number}\n{_timestamp(cue.start)} --> {_timestamp(cue.end)}\n{_cue_text(cue)}\n")
    return "\n".join(blocks)
