"""An offline speech recogniser (CMU PocketSphinx, its US English model from the wheel) and the word
error rate of what it heard: evidence that a stream says the words it was given."""

from __future__ import annotations

import re
import subprocess

from pocketsphinx import Decoder

RECOGNISER_RATE = 16000  # the rate PocketSphinx's acoustic model was trained at


def transcribe(pcm: bytes, rate: int) -> str:
    """What PocketSphinx hears in 16-bit mono PCM at ``rate``: lower-case words, one utterance."""
    audio = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0"]
        + ["-ar", str(RECOGNISER_RATE), "-ac", "1", "-f", "s16le", "pipe:1"],
        input=pcm,
        capture_output=True,
        check=True,
    ).stdout
    decoder = Decoder(loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw(audio, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""


def words(text: str) -> list[str]:
    """The words of a text as a recogniser writes them: lower case, no punctuation, "it's" as "its".
    Numbers must be written as words (a recogniser writes "twelve", never "12")."""
    if re.search(r"\d", text):
        raise ValueError(f"write the numbers of {text[:40]!r}... as words")
    return re.sub(r"[^a-z' ]+", " ", text.lower()).replace("'", "").split()


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions, deletions and insertions that turn ``reference`` into ``hypothesis`` (Levenshtein)."""
    previous = list(range(len(hypothesis) + 1))
    for i, wanted in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, heard in enumerate(hypothesis, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (wanted != heard))
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    expected = words(reference)
    if not expected:
        raise ValueError("the reference has no words")
    return edit_distance(expected, words(hypothesis)) / len(expected)
