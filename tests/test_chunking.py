import pytest

from audiostream.speech.chunking import SentenceChunker, pack_chunks, split_into_chunks, split_into_sentences

from support.paths import read_text


def test_sentences_become_chunks_and_the_first_is_short():
    text = read_text("three_paragraphs.txt")
    chunks = split_into_chunks(text, first_max_chars=80, max_chars=300)
    assert len(chunks[0]) <= 80
    assert all(len(chunk) <= 300 for chunk in chunks)
    # Nothing is lost or reordered: the words come back in order.
    assert " ".join(chunks).split() == text.split()
    # Chunks after the first end at a sentence end (this text has no overlong sentences).
    assert all(chunk.endswith((".", "!", "?")) for chunk in chunks[1:])


def test_a_long_first_sentence_is_cut_at_a_comma():
    text = "Once upon a time, in a kingdom far away, there lived a brave knight who feared nothing at all."
    chunks = split_into_chunks(text, first_max_chars=50, max_chars=300)
    assert chunks[0] == "Once upon a time, in a kingdom far away,"
    assert chunks[1] == "there lived a brave knight who feared nothing at all."


def test_a_long_sentence_without_commas_is_cut_at_a_space():
    text = " ".join(["word"] * 100) + "."
    chunks = split_into_chunks(text, first_max_chars=40, max_chars=60)
    assert all(len(chunk) <= 60 for chunk in chunks)
    assert all(not chunk.startswith(" ") and "wor d" not in chunk for chunk in chunks)
    assert " ".join(chunks).split() == text.split()


def test_a_word_longer_than_the_limit_is_cut_hard():
    chunks = split_into_chunks("x" * 130, first_max_chars=50, max_chars=50)
    assert [len(chunk) for chunk in chunks] == [50, 50, 30]


def test_abbreviations_and_decimals_do_not_end_sentences():
    chunks = SentenceChunker(200, 200).feed("Dr. Smith measured 3.14 metres. Then he left. ")
    assert chunks == ["Dr. Smith measured 3.14 metres.", "Then he left."]


def test_paragraph_breaks_end_a_chunk_without_punctuation():
    chunker = SentenceChunker(200, 200)
    assert chunker.feed("A title\n\nThe story begins") == ["A title"]
    assert chunker.finish() == ["The story begins"]


@pytest.mark.parametrize("piece_size", [1, 3, 17])
def test_text_fed_in_pieces_gives_the_same_chunks_as_text_fed_whole(piece_size):
    text = read_text("three_paragraphs.txt")
    whole = SentenceChunker(80, 300)
    expected = whole.feed(text) + whole.finish()
    streamed = SentenceChunker(80, 300)
    chunks = []
    for start in range(0, len(text), piece_size):
        chunks += streamed.feed(text[start : start + piece_size])
    assert chunks + streamed.finish() == expected


def test_an_unfinished_sentence_waits_for_more_text():
    chunker = SentenceChunker(80, 300)
    assert chunker.feed("The knight rode") == []
    assert chunker.feed(" on. And") == ["The knight rode on."]
    assert chunker.finish() == ["And"]


def test_unspeakable_pieces_are_dropped():
    assert split_into_chunks("... !!! Hello.", 80, 300) == ["Hello."]
    assert split_into_chunks("   ", 80, 300) == []


def test_packing_joins_sentences_after_the_first_up_to_the_limit():
    assert pack_chunks(["a.", "b.", "c.", "d."], max_chars=5) == ["a.", "b. c.", "d."]


def test_packing_can_pack_the_first_chunk_too():
    assert pack_chunks(["a.", "b.", "c.", "d."], max_chars=5, keep_first_short=False) == ["a. b.", "c. d."]
    assert pack_chunks([], max_chars=5) == []


def test_a_chunk_splits_into_the_sentences_the_chunker_sees():
    assert split_into_sentences("Dr. Smith arrived. Was it late? Yes! 中文。好 Then  done") == [
        "Dr. Smith arrived.",
        "Was it late?",
        "Yes!",
        "中文。",
        "好 Then  done",
    ]
    assert split_into_sentences("  ") == []
    assert split_into_sentences("." * 5000) == ["." * 5000]
