"""What a session speaks, chunk by chunk: its text cut into chunks, or a language model's answer to
its prompt, read ahead while the voice speaks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..config import Settings
from ..errors import PublicError
from ..observability import iterated_in_session_log_context
from ..speech.chunking import chunks_of_stream, has_speakable, split_into_chunks
from ..speech.engines import TtsEngine
from ..speech.llm import expand_prompt
from ..speech.read_ahead import ReadAhead
from ..store.sessions import Session
from ..workers import Crew


class NothingToSpeak(PublicError):
    pass


@dataclass
class ChunkPlan:
    chunks: Iterator[str]
    spoken_as: str  # "text", "prompt" (spoken as written) or "llm"
    total_chars: int | None  # None while a model is still writing
    total_chunks: int | None


def plan_chunks(
    session: Session,
    text: str,
    settings: Settings,
    engine: TtsEngine,
    crew: Crew,
    deadline: float | None = None,
    interrupt: Callable[[], None] = lambda: None,
) -> ChunkPlan:
    """The chunks to speak. A model's are read by a worker of ``crew``; ``interrupt`` is called while
    the speaker waits for the model's next words, so that a cancel (what it raises) ends the wait."""
    if not has_speakable(text):
        raise NothingToSpeak("the request had nothing to speak")
    first_max, chunk_max = settings.speech.first_chunk_max_chars, settings.speech.chunk_max_chars
    if session.text_given or not settings.llm.enabled:
        chunks = split_into_chunks(text, first_max, chunk_max)
        spoken_as = "text" if session.text_given else "prompt"
        return ChunkPlan(iter(chunks), spoken_as, sum(map(len, chunks)), len(chunks))
    language = engine.languages().get(session.lang, session.lang)
    pieces = expand_prompt(text, language, settings, deadline)
    sentences = crew.start(
        ReadAhead(
            iterated_in_session_log_context(session.session_id, chunks_of_stream(pieces, first_max, chunk_max)),
            name=f"llm-{session.session_id[:8]}",
        )
    )
    return ChunkPlan(sentences.packed(chunk_max, interrupt), "llm", None, None)
