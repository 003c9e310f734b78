"""espeak-ng through libespeak-ng: the program's bytes, with every sentence and word where it is heard.

Real espeak-ng throughout. The reference is the engine's other path, the espeak-ng program; the audio
facts (pauses, sound) are measured on the PCM itself, by RMS over 10 ms windows.
"""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest

from audiostream.speech.chunking import split_into_sentences
from audiostream.speech.engines import TtsError
from audiostream.speech.engines.espeak import EspeakEngine

RATE = EspeakEngine.sample_rate
WINDOW = RATE // 100  # 10 ms
FOUR_SENTENCES = (
    "The lighthouse keeper climbed the spiral stairs every evening at dusk. He counted the steps as he went, "
    "one hundred and twelve of them. At the top, he wiped the great lens clean and lit the lamp! "
    "Would its beam reach the ships out on the restless water?"
)


@pytest.fixture(scope="module")
def library() -> EspeakEngine:
    return EspeakEngine()


@pytest.fixture(scope="module")
def program() -> EspeakEngine:
    return EspeakEngine(library=None)


def spoken(engine: EspeakEngine, text: str, lang: str = "en", voice: str | None = None):
    (speech,) = engine.stream(text, lang, voice)
    return speech


def window_rms(pcm: bytes) -> np.ndarray:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    samples = samples[: len(samples) // WINDOW * WINDOW]
    return np.sqrt((samples.reshape(-1, WINDOW) ** 2).mean(axis=1))


def pauses(pcm: bytes, shortest_ms: int = 100) -> list[tuple[int, int]]:
    """(first sample, sample after the last) of each stretch of at least ``shortest_ms`` below 1% of
    the loudest window."""
    quiet = window_rms(pcm) < 0.01 * window_rms(pcm).max()
    found, start = [], None
    for index, silent in enumerate([*quiet, False]):
        if silent and start is None:
            start = index
        elif not silent and start is not None:
            if (index - start) * 10 >= shortest_ms:
                found.append((start * WINDOW, index * WINDOW))
            start = None
    return found


@pytest.mark.parametrize(
    ("text", "lang", "voice"),
    [
        ("Hello there. How are you today? I am fine, thank you!", "en", None),
        ("Café au lait. Ça va? Très bien, merci.", "fr", None),
        ("A voice variant speaks this sentence.", "en", "f3"),
        ("A breathy variant draws on the C library's random numbers.", "en", "whisper"),
        ("Привет, мир. Как дела?", "ru", None),
        ("你好。我很好。谢谢你！", "cmn", None),
        ("A line.\nAnother line, then a blank one.\n\nAnd the last, without its line break", "en", None),
    ],
)
def test_the_library_speaks_the_programs_bytes_every_time(library, program, text, lang, voice):
    speech = spoken(library, text, lang, voice)
    assert speech.words, "the library was not used"
    assert speech.pcm == program.synthesize(text, lang, voice)
    assert spoken(library, text, lang, voice).pcm == speech.pcm  # nothing carried over from the last time


def test_phoneme_brackets_are_read_as_text_not_as_phoneme_codes(library, program):
    # The program reads "[[...]]" as espeak phoneme codes; the library is told not to.
    text = "Say [[h@l'oU]] now."
    speech = spoken(library, text)
    assert [word.text for word in speech.words] == ["Say", "[[h@l'oU]]", "now."]
    assert len(speech.pcm) > len(program.synthesize(text, "en", None))


def test_every_sentence_has_one_mark_in_order_the_first_at_the_start(library):
    speech = spoken(library, FOUR_SENTENCES)
    assert [mark.text for mark in speech.sentences] == split_into_sentences(FOUR_SENTENCES)
    assert len(speech.sentences) == 4
    assert speech.sentences[0].sample == 0
    samples = [mark.sample for mark in speech.sentences]
    assert samples == sorted(set(samples)) and samples[-1] < len(speech.pcm) // 2


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (FOUR_SENTENCES, "en"),
        # Words espeak reports at the space before them ("are"), or not at all ("am", "—"), and numbers
        # it reads as several words.
        ("I am fine. Dr. Smith paid $1,234.56 on 3/4/2021 — really! e.g. this, etc. are abbreviations.", "en"),
        ("Café au lait. Ça va? Très bien.", "fr"),
        ("First line.\nSecond line\n\nThird, after a blank line.", "en"),
        ("你好。再见。", "cmn"),
    ],
)
def test_every_word_has_one_mark_in_order_within_the_speech(library, text, lang):
    speech = spoken(library, text, lang)
    words = [word for sentence in split_into_sentences(text) for word in sentence.split()]
    assert [mark.text for mark in speech.words] == words
    samples = [mark.sample for mark in speech.words]
    assert all(a < b for a, b in zip(samples, samples[1:], strict=False))
    assert 0 <= samples[0] and samples[-1] < len(speech.pcm) // 2
    # A sentence begins with its first word (the first sentence at the start of the speech).
    firsts = {mark.sample for mark in speech.sentences[1:]}
    assert firsts <= set(samples)


def test_a_sentence_begins_where_the_pause_before_it_ends(library):
    speech = spoken(library, FOUR_SENTENCES)
    ends = [end for _, end in pauses(speech.pcm)]
    for mark in speech.sentences[1:]:
        nearest = min(ends, key=lambda end: abs(end - mark.sample))
        # espeak places the sentence's first word where its sound starts, after the pause; 20 ms is
        # two of the windows that find the pause's end.
        assert abs(mark.sample - nearest) <= RATE * 0.020, f"{mark.text!r} {mark.sample - nearest} samples off"


def test_words_are_marked_where_they_sound_and_take_time_by_their_length(library):
    speech = spoken(library, FOUR_SENTENCES)
    rms = window_rms(speech.pcm)
    threshold = 0.01 * rms.max()
    sounding = [rms[mark.sample // WINDOW : mark.sample // WINDOW + 5].mean() > threshold for mark in speech.words]
    assert sum(sounding) >= 0.9 * len(sounding)
    # Apart from a word before a pause, the time to the next word grows with the word's length.
    lengths, durations = [], []
    for word, after in zip(speech.words, speech.words[1:], strict=False):
        if word.text[-1] not in ",.!?":
            lengths.append(len(word.text))
            durations.append(after.sample - word.sample)
    assert np.corrcoef(lengths, durations)[0, 1] > 0.7


def test_a_synthesis_that_takes_too_long_stops_and_the_next_one_is_whole(library, program):
    slow = EspeakEngine(timeout=0.05)
    with pytest.raises(TtsError, match=r"espeak-ng took longer than 0.05 s"):
        slow.synthesize("The lamp is lit again tonight. " * 200, "en", None)
    text = "After a timeout, the next synthesis is whole."
    assert slow.synthesize(text, "en", None) == program.synthesize(text, "en", None)
    assert spoken(library, text).pcm == program.synthesize(text, "en", None)


def test_two_threads_speaking_at_once_each_get_their_own_speech(library):
    texts = {"en": FOUR_SENTENCES, "fr": "Café au lait. Ça va? Très bien, merci."}
    alone = {lang: spoken(library, text, lang) for lang, text in texts.items()}
    results: dict[str, list] = {lang: [] for lang in texts}
    start = threading.Barrier(len(texts))

    def speak(lang: str) -> None:
        start.wait()
        for _ in range(5):
            results[lang].append(spoken(library, texts[lang], lang))

    threads = [threading.Thread(target=speak, args=(lang,)) for lang in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for lang in texts:
        assert results[lang] == [alone[lang]] * 5


@pytest.mark.parametrize(
    "engine",
    [
        EspeakEngine(library="espeak-ng-not-installed"),
        # A program named by its path is run as it is: the system's library may not be its own.
        EspeakEngine(binary=shutil.which("espeak-ng") or "/usr/bin/espeak-ng"),
    ],
    ids=["no library", "a program by its path"],
)
def test_without_the_library_the_program_speaks_without_marks(program, engine):
    text = "Hello there. How are you today?"
    speech = spoken(engine, text)
    assert speech.sentences == () and speech.words == ()
    assert speech.pcm == program.synthesize(text, "en", None)


def test_an_unknown_voice_or_an_empty_text_is_a_public_error(library):
    with pytest.raises(TtsError, match=r"^espeak-ng has no voice 'zz'$"):
        library.synthesize("Hello.", "zz", None)
    with pytest.raises(TtsError, match=r"^espeak-ng has no voice 'zz\+f3'$"):
        library.synthesize("Hello.", "zz", "f3")
    with pytest.raises(TtsError, match=r"^espeak-ng made no audio$"):
        library.synthesize("", "en", None)
