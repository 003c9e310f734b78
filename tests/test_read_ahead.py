"""A model's chunks read ahead and packed when the voice is ready: never later, never out of order."""

import threading
import time

import pytest

from audiostream.speech.read_ahead import ReadAhead

from support.concurrency import join_thread_named


def started(reader: ReadAhead) -> ReadAhead:
    reader.start()
    return reader


def test_chunks_waiting_are_packed_up_to_the_size_and_the_first_stays_alone():
    sentences = [f"Sentence {n}." for n in range(1, 31)]  # 12 or 13 characters each
    ahead = started(ReadAhead(iter(sentences), name="read-ahead-pack"))
    join_thread_named("read-ahead-pack")  # it has taken everything from its source
    packed = list(ahead.packed(max_chars=60))
    assert packed[0] == "Sentence 1."
    assert all(len(chunk) <= 60 for chunk in packed)
    assert " ".join(packed) == " ".join(sentences)
    assert len(packed) == 1 + 7  # 29 sentences at 4 (or 5) a chunk, not 29 engine runs


def test_a_chunk_is_spoken_as_soon_as_it_arrives_without_waiting_for_more():
    arrived, more = threading.Event(), threading.Event()

    def model():
        yield "The first."
        arrived.set()
        more.wait(timeout=10)
        yield "The second."

    packed = started(ReadAhead(model(), name="read-ahead-wait")).packed(max_chars=300)
    assert next(packed) == "The first."
    assert arrived.wait(timeout=10)
    more.set()
    assert list(packed) == ["The second."]


def test_a_failure_of_the_source_is_raised_to_the_speaker_after_what_came_before():
    def model():
        yield "Spoken."
        raise RuntimeError("the stream broke")

    packed = started(ReadAhead(model(), name="read-ahead-fail")).packed(max_chars=300)
    assert next(packed) == "Spoken."
    with pytest.raises(RuntimeError, match="the stream broke"):
        next(packed)


def test_a_speaker_waiting_for_the_model_is_interrupted_by_what_interrupt_raises():
    never = threading.Event()

    def model_that_stalls():
        yield "First words."
        never.wait(60)  # the model says nothing more for a minute
        yield "Too late."

    cancelled = threading.Event()

    def interrupt():
        if cancelled.is_set():
            raise RuntimeError("cancelled")

    reader = started(ReadAhead(model_that_stalls()))
    chunks = reader.packed(300, interrupt)
    assert next(chunks) == "First words."
    cancelled_at = []

    def cancel():
        cancelled_at.append(time.monotonic())
        cancelled.set()

    threading.Timer(0.2, cancel).start()
    with pytest.raises(RuntimeError, match="cancelled"):
        next(chunks)
    # Within a few looks of the cancel (every 0.05 s), not at the model's next words a minute later.
    assert time.monotonic() - cancelled_at[0] < 0.5
    reader.close()
    never.set()
    assert reader.join(timeout=10), "the reader ends at the model's next words once closed"
