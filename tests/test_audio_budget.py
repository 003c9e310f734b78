"""The audio budget cuts the stream at the limit, to the sample, and estimates before synthesis."""

from array import array

import pytest

from audiostream.generation.audio_budget import FADE_SECONDS, AudioBudget

RATE = 1000


def tone(seconds: float, level: int = 10_000) -> bytes:
    return array("h", [level] * int(seconds * RATE)).tobytes()


def test_audio_within_the_budget_passes_unchanged():
    budget = AudioBudget(seconds=10, sample_rate=RATE)
    pcm = tone(4)
    assert budget.take(pcm, chars=40) == pcm and not budget.exhausted


def test_audio_past_the_budget_is_cut_at_it_and_faded_out():
    budget = AudioBudget(seconds=10, sample_rate=RATE)
    budget.take(tone(8), chars=80)
    kept = array("h", budget.take(tone(5), chars=50))
    assert len(kept) == 2 * RATE and budget.exhausted
    fade = int(FADE_SECONDS * RATE)
    assert set(kept[:-fade]) == {10_000}
    assert list(kept[-fade:]) == sorted(kept[-fade:], reverse=True) and kept[-1] < 10_000 / fade + 1


def test_the_rate_measured_so_far_says_how_much_of_the_next_text_can_fit():
    budget = AudioBudget(seconds=10, sample_rate=RATE)
    assert budget.chars_that_fit("x" * 300) == 300  # nothing measured yet: no guess
    budget.take(tone(8), chars=80)  # 0.1 s a character
    # 2 s are left: 20 characters, and a quarter more for a text spoken faster.
    assert budget.chars_that_fit("x" * 300) == pytest.approx(25, abs=1)
    assert budget.chars_that_fit("short") == 5
