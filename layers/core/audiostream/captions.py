"""Captions from what was spoken: sentence cues timed by the PCM fed to the encoder, rendered as the
WebVTT segments of an HLS subtitle playlist.

A cue's start is measured, not estimated: it is the number of samples fed to the encoder before its
sentence, plus the AAC encoder's delay (ffmpeg writes no edit list, so players play its 1024 priming
samples). Where an engine hands over one piece per sentence (hibari), each piece is its sentence's
cue; where a piece holds several sentences (espeak-ng, gTTS and Polly speak a whole chunk), the
piece's time is shared among them by their number of characters: a stated rule, exact at each
piece's edges.

Each WebVTT segment carries every cue that overlaps it, with the same times, text and id in each, so
that a player that loads only the segment it seeks to still shows the sentence (RFC 8216 3.5) and
hls.js, which drops a cue whose id it has, shows it once. ``X-TIMESTAMP-MAP`` ties cue time 0 to the
audio's media time 0 (ffmpeg's first ``tfdt``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .chunking import split_into_sentences

TIMESTAMP_MAP = "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000"
AAC_PRIMING_SAMPLES = 1024  # what ffmpeg's AAC encoder puts before the first sample it was given


@dataclass(frozen=True)
class Cue:
    number: int  # the cue's id: the same in every segment that repeats it
    start: float  # seconds into the stream, as heard
    end: float
    text: str


class CaptionTimeline:
    """The cues of one session, in speaking order, from the pieces of PCM the encoder is fed."""

    def __init__(self, sample_rate: int, output_rate: int):
        self.sample_rate = sample_rate
        self._delay = AAC_PRIMING_SAMPLES / output_rate
        self._fed = 0  # samples fed so far
        self.cues: list[Cue] = []

    def add(self, samples: int, text: str, one_sentence: bool = False) -> None:
        """A piece of ``samples`` samples that speaks ``text`` (a chunk, or one sentence of it)."""
        start = self._fed
        self._fed += samples
        sentences = [text.strip()] if one_sentence else split_into_sentences(text)
        sentences = [sentence for sentence in sentences if sentence]
        if not sentences or samples <= 0:
            return
        total = sum(len(sentence) for sentence in sentences)
        position = 0
        for sentence in sentences:
            begin = start + samples * position // total
            position += len(sentence)
            self.cues.append(
                Cue(len(self.cues), self._seconds(begin), self._seconds(start + samples * position // total), sentence)
            )

    def _seconds(self, sample: int) -> float:
        return round(sample / self.sample_rate + self._delay, 3)

    def between(self, start: float, end: float) -> list[Cue]:
        """The cues heard, even in part, from ``start`` to ``end`` (seconds into the stream)."""
        return [cue for cue in self.cues if cue.start < end and cue.end > start]


def _timestamp(seconds: float) -> str:
    milliseconds = round(seconds * 1000)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _cue_text(text: str) -> str:
    # WebVTT cue text: no blank line or "-->" may appear, and & < > are markup.
    return " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_vtt(cues: list[Cue]) -> str:
    """One WebVTT segment holding ``cues`` (a segment without any still has its header)."""
    blocks = [f"WEBVTT\n{TIMESTAMP_MAP}\n"]
    for cue in cues:
        blocks.append(f"{cue.number}\n{_timestamp(cue.start)} --> {_timestamp(cue.end)}\n{_cue_text(cue.text)}\n")
    return "\n".join(blocks)
