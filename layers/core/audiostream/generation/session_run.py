"""A claimed session's whole run: chunks -> TTS -> one encoder -> segments in S3 -> SUCCESS | FAILURE,
or REVOKED when it is cancelled while it runs (what was encoded is published, then it stops).

Whatever goes wrong, the session ends in a clear state: the playlist is closed with
``#EXT-X-ENDLIST`` and names only uploaded segments (the audio made before the fault stays
playable), the item says FAILURE with a readable ``error``, and nothing is raised that would make
Lambda retry a session that has already ended.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from ..config import Settings
from ..errors import PublicError
from ..media.download import DownloadFailed, remuxed_stream
from ..media.encoder import EncoderRecipe, HlsEncoder
from ..media.encoder_feed import EncoderFeed
from ..media.hls import DOWNLOAD_NAME
from ..media.loudness import LoudnessLeveller
from ..media.ready_encoder import READY, discard
from ..observability import MetricUnit, emit_metric, iterated_in_session_log_context, logger, tracer
from ..speech.captions import CaptionTimeline
from ..speech.chunking import chunks_of_stream, first_part, has_speakable, split_into_chunks
from ..speech.engines import TtsEngine, TtsError, get_engine
from ..speech.llm import expand_prompt
from ..speech.read_ahead import ReadAhead
from ..store.media_store import MediaStore
from ..store.sessions import Session, SessionStore, SessionUpdate, State, TransitionRefused
from .audio_budget import AudioBudget
from .progress import ProgressRecorder
from .publisher import SegmentPublisher
from .revocation import RevocationWatch, Revoked


class ChunkFailed(PublicError):
    pass


class OutOfTime(PublicError):
    """The invocation is about to reach Lambda's timeout: stop while the stream can still be closed."""


class NothingToSpeak(PublicError):
    pass


def describe_error(error: BaseException) -> str:
    """A sentence for the session's ``error`` field, which anyone with the id reads: what failed, in
    words a user understands. AWS's messages (which name ARNs), addresses and stack traces stay in the
    log, written with the session id when the session fails."""
    if isinstance(error, PublicError):
        return str(error)
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code") or "an error"
        return f"a storage request ({error.operation_name}) failed: {code}"
    if isinstance(error, BotoCoreError):
        return "the storage could not be reached"
    if isinstance(error, TransitionRefused):
        return "the session was ended by someone else while it was generating"
    return "an internal error stopped the generation; the service's logs have the details"


@tracer.capture_method
def run_session(
    session: Session,
    text: str,
    settings: Settings,
    sessions: SessionStore,
    media: MediaStore,
    deadline: float | None = None,
) -> State:
    """Speak ``text`` (the words, or the prompt when the request gave no ``text``) as the audio of a
    session already claimed (in PROGRESS); answer the state it ended in.

    ``deadline`` (time.monotonic()) is when to stop speaking and close the stream, ahead of Lambda's
    timeout. Raises only when even FAILURE could not be recorded, so that Lambda hands the event to the
    on-failure destination, whose records end the session.
    """
    encoder = recipe = publisher = None
    spoken: list[str] = []
    progress = ProgressRecorder(sessions, session.session_id, heartbeat=settings.timing.heartbeat_seconds)
    watch = RevocationWatch(sessions, session.session_id)
    try:
        engine = get_engine(session.engine, settings)
        recipe = EncoderRecipe(
            engine.sample_rate,
            ffmpeg=settings.speech.ffmpeg_path,
            part_seconds=settings.speech.segment_seconds,
            bitrate=settings.speech.aac_bitrate,
            output_rate=settings.speech.audio_sample_rate,
        )
        encoder = READY.take(recipe)  # a new one unless a session before this one left it ready
        captions = (
            CaptionTimeline(engine.sample_rate, settings.speech.audio_sample_rate) if settings.speech.captions else None
        )
        publisher = SegmentPublisher(
            session.session_id,
            encoder,
            media,
            settings.speech.target_duration,
            on_listed=lambda count, seconds: progress.record(
                SessionUpdate(segments=count, duration=round(seconds, 3), first_segment_at=publisher.first_listed_at)
            ),
            captions=captions,
        )
        publisher.start()
        with watch:
            _speak_all(session, text, settings, engine, encoder, publisher, captions, progress, watch, deadline, spoken)
        encoder.close()
        publisher.stop()
        publisher.close_playlist()
        transcript = publisher.write_transcript()
        download = _store_download(session.session_id, encoder, media, settings)
        progress.flush()
        progress.raise_if_refused()
        sessions.transition(
            session.session_id,
            State.SUCCESS,
            SessionUpdate(
                progress=100,
                chunks_total=len(spoken),
                segments=len(publisher.published),
                duration=round(publisher.duration, 3),
                spoken_text=" ".join(spoken),
                transcript=transcript,
                download=download,
            ),
        )
        _report(session, publisher, State.SUCCESS)
        return State.SUCCESS
    except Revoked:
        logger.info("session cancelled: publishing what was encoded")
        progress.flush()
        return _end_revoked(session, " ".join(spoken), sessions, encoder, publisher)
    except Exception as error:  # every fault ends the session here, cleanly
        if watch.revoked.is_set() or isinstance(error, TransitionRefused):
            # Cancelled while it ran: the fault is the cancel's (a refused progress write, a closed feed).
            if _was_revoked(sessions, session.session_id):
                progress.flush()
                return _end_revoked(session, " ".join(spoken), sessions, encoder, publisher)
        logger.exception("session failed")
        progress.flush()
        return _fail(session, describe_error(error), " ".join(spoken), settings, sessions, media, encoder, publisher)
    finally:
        if encoder is not None:
            discard(encoder)
        if recipe is not None and settings.speech.ready_encoder:
            READY.prepare(recipe)  # the next session's, while this instance waits for it


def _store_download(session_id: str, encoder: HlsEncoder, media: MediaStore, settings: Settings) -> bool:
    """audio.m4a beside the segments; answers whether it is stored. The stream is whole without it,
    so a file that cannot be made is logged and left out, and the session still succeeds."""
    try:
        media.put_download(session_id, DOWNLOAD_NAME, remuxed_stream(encoder, settings.speech.ffmpeg_path))
    except (DownloadFailed, ClientError, BotoCoreError):
        logger.exception("the file to keep could not be stored")
        return False
    return True


def _report(session: Session, publisher: SegmentPublisher | None, state: State) -> None:
    audio_seconds = publisher.duration if publisher else 0.0
    first_segment_at = publisher.first_listed_at if publisher else None
    if first_segment_at is not None:
        emit_metric("TimeToFirstSegment", MetricUnit.Milliseconds, (first_segment_at - session.created_at) * 1000)
    emit_metric("AudioSecondsProduced", MetricUnit.Seconds, audio_seconds)
    counted = {State.SUCCESS: "SessionsSucceeded", State.REVOKED: "SessionsCancelled"}
    emit_metric(counted.get(state, "SessionsFailed"), MetricUnit.Count, 1)
    logger.info("session ended", extra={"state": state.value, "audio_seconds": round(audio_seconds, 3)})


@dataclass
class ChunkPlan:
    chunks: Iterator[str]
    spoken_as: str
    total_chars: int | None  # None while a model is still writing
    total_chunks: int | None
    stop: Callable[[], None] = lambda: None  # the model's reader, which must not outlive the session

    def __enter__(self) -> ChunkPlan:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def plan_chunks(
    session: Session,
    text: str,
    settings: Settings,
    engine: TtsEngine,
    deadline: float | None = None,
    interrupt: Callable[[], None] = lambda: None,
) -> ChunkPlan:
    """The chunks to speak; ``interrupt`` is called while the speaker waits for the model's next
    words, so that a cancel (what it raises) ends the wait."""
    if not has_speakable(text):
        raise NothingToSpeak("the request had nothing to speak")
    first_max, chunk_max = settings.speech.first_chunk_max_chars, settings.speech.chunk_max_chars
    if session.text_given or not settings.llm.enabled:
        chunks = split_into_chunks(text, first_max, chunk_max)
        spoken_as = "text" if session.text_given else "prompt"
        return ChunkPlan(iter(chunks), spoken_as, sum(map(len, chunks)), len(chunks))
    language = engine.languages().get(session.lang, session.lang)
    pieces = expand_prompt(text, language, settings, deadline)
    sentences = ReadAhead(
        iterated_in_session_log_context(session.session_id, chunks_of_stream(pieces, first_max, chunk_max)),
        name=f"llm-{session.session_id[:8]}",
    )
    return ChunkPlan(sentences.packed(chunk_max, interrupt), "llm", None, None, stop=sentences.stop)


@contextmanager
def _unfed_dropped_when_revoked(feed: EncoderFeed) -> Iterator[None]:
    """A cancel stops the feeding: what the writer has not taken yet is never encoded."""
    try:
        yield
    except Revoked:
        feed.discard_waiting()
        raise


def _speak_all(
    session: Session,
    text: str,
    settings: Settings,
    engine: TtsEngine,
    encoder: HlsEncoder,
    publisher: SegmentPublisher,
    captions: CaptionTimeline | None,
    progress: ProgressRecorder,
    watch: RevocationWatch,
    deadline: float | None,
    spoken: list[str],
) -> None:
    """Speak every chunk of the plan into the encoder, noting each in ``spoken`` once it is fed;
    raises Revoked, having fed nothing more, once the session is cancelled."""
    leveller = LoudnessLeveller(engine.sample_rate, settings.speech.loudness_lufs)
    with (
        plan_chunks(session, text, settings, engine, deadline, watch.raise_if_revoked) as plan,
        EncoderFeed(encoder, leveller, name=f"feed-{session.session_id[:8]}") as feed,
        _unfed_dropped_when_revoked(feed),
    ):
        budget = AudioBudget(settings.limits.max_audio_seconds, engine.sample_rate)
        progress.record(SessionUpdate(spoken_as=plan.spoken_as, chunks_total=plan.total_chunks or 0))
        # While the model writes, the most it may write stands in for the unknown total: progress
        # then rises more slowly than the truth, and never goes down.
        expected_chars = plan.total_chars or settings.llm.llm_max_chars
        of_total = f" of {plan.total_chunks}" if plan.total_chunks else ""
        spoken_chars = 0
        for number, chunk in enumerate(plan.chunks, start=1):
            watch.raise_if_revoked()
            if deadline is not None and time.monotonic() > deadline:
                raise OutOfTime(
                    f"generation stopped {settings.timing.finish_margin_seconds:g} s before the function's time limit, "
                    f"after {number - 1} chunks: the text is longer than one invocation can speak"
                )
            if budget.exhausted:
                raise budget.reached()
            whole_chunk, chunk = chunk, first_part(chunk, budget.chars_that_fit(chunk))
            try:
                cut = _speak_chunk(chunk, session, engine, budget, feed, publisher, captions, progress, watch)
            except TtsError as error:
                raise ChunkFailed(f"speech synthesis failed on chunk {number}{of_total}: {error}") from error
            spoken.append(chunk)
            spoken_chars += len(chunk)
            # 100 is kept for SUCCESS: the last segments are still being encoded and uploaded.
            progress.record(
                SessionUpdate(chunk_count=number, progress=int(99 * spoken_chars / max(expected_chars, spoken_chars)))
            )
            if cut or chunk != whole_chunk:
                raise budget.reached()
        if not spoken:
            raise NothingToSpeak("the language model's answer had nothing to speak")


def _speak_chunk(
    chunk: str,
    session: Session,
    engine: TtsEngine,
    budget: AudioBudget,
    feed: EncoderFeed,
    publisher: SegmentPublisher,
    captions: CaptionTimeline | None,
    progress: ProgressRecorder,
    watch: RevocationWatch,
) -> bool:
    """Feed the encoder each piece of the chunk's speech as the engine makes it; answer whether the
    audio budget cut it short."""
    pieces = watch.each(engine.stream(chunk, session.lang, session.voice), name=f"speech-{session.session_id[:8]}")
    chars = len(chunk)  # the rate estimate counts the chunk's characters once, with its first piece
    try:
        for speech in pieces:
            fitting = budget.take(speech.pcm, chars)
            chars = 0
            # Timed before ffmpeg has the samples, so a segment's captions are known when it is made.
            if captions is not None:
                captions.add(len(fitting) // 2, chunk, speech.sentences, speech.words)
            feed.put(fitting)
            publisher.raise_if_failed()
            progress.raise_if_refused()
            if len(fitting) < len(speech.pcm):
                return True
    finally:
        pieces.close()
    return False


def _published(publisher: SegmentPublisher | None, spoken_text: str, transcript: bool) -> SessionUpdate:
    """What a session that stopped short leaves playable: the words, the segments and their seconds."""
    return SessionUpdate(
        spoken_text=spoken_text,
        segments=len(publisher.published) if publisher else 0,
        duration=round(publisher.duration, 3) if publisher else 0.0,
        transcript=transcript,
    )


def _was_revoked(sessions: SessionStore, session_id: str) -> bool:
    try:
        return sessions.state_of(session_id) is State.REVOKED
    except (ClientError, BotoCoreError):
        return False


def _end_revoked(
    session: Session,
    spoken_text: str,
    sessions: SessionStore,
    encoder: HlsEncoder | None,
    publisher: SegmentPublisher | None,
) -> State:
    """Cancelled while it ran: the cancel made it REVOKED; publish what was encoded, close every
    playlist, and record what is playable. Nothing is uploaded after the playlists are closed."""
    transcript = False
    try:
        if encoder is not None:
            encoder.close(timeout=10)
        if publisher is not None:
            publisher.stop()
            transcript = publisher.write_transcript()
            publisher.close_playlist()
    except Exception:
        logger.exception("could not publish all that was encoded before the cancel")
        if encoder is not None:
            encoder.kill()
        if publisher is not None:
            try:
                publisher.close_playlist()
            except Exception:
                logger.exception("could not close the playlist of a cancelled session")
    try:
        sessions.record_after_revoke(
            session.session_id,
            _published(publisher, spoken_text, transcript),
        )
    except (TransitionRefused, ClientError, BotoCoreError):
        logger.warning("what the cancelled session published could not be recorded", exc_info=True)
    _report(session, publisher, State.REVOKED)
    return State.REVOKED


def _fail(
    session: Session,
    reason: str,
    spoken_text: str,
    settings: Settings,
    sessions: SessionStore,
    media: MediaStore,
    encoder: HlsEncoder | None,
    publisher: SegmentPublisher | None,
) -> State:
    if encoder is not None:
        try:
            encoder.close(timeout=10)  # flushes the audio already fed, so it stays playable
        except Exception:
            encoder.kill()
    if publisher is not None:
        try:
            publisher.stop()
        except Exception:
            logger.exception("could not publish the last segments")
    transcript = False
    try:
        if publisher is not None:
            publisher.close_playlist()
            transcript = publisher.write_transcript()
        else:  # it failed before there was anything to publish
            media.put_closed_empty_playlists(
                session.session_id, settings.speech.target_duration, settings.speech.captions
            )
    except Exception:
        logger.exception("could not close the playlist")
    try:
        sessions.transition(
            session.session_id,
            State.FAILURE,
            dataclasses.replace(_published(publisher, spoken_text, transcript), error=reason),
        )
    except TransitionRefused:
        logger.warning("the session had already ended; FAILURE (%s) not recorded", reason)
    _report(session, publisher, State.FAILURE)
    return State.FAILURE
