"""A claimed session's whole run: chunks -> TTS -> one encoder -> segments in S3 -> SUCCESS | FAILURE,
or REVOKED when it is cancelled while it runs (what was encoded is published, then it stops).

``SessionRun`` is the one owner of a run: it holds what the run shares, starts every worker in one
place (its ``Crew``: the cancel watch, progress, the publisher, the encoder's feed, the model's
reader, the engine's piece makers) and ends the session through one ``finish(state, reason)``, in
one order whatever the ending. Whatever goes wrong, the session ends in a clear state: the playlist
is closed with ``#EXT-X-ENDLIST`` and names only uploaded segments (the audio made before the fault
stays playable), the item says FAILURE with a readable ``error``, and nothing is raised that would
make Lambda retry a session that has already ended.

The module is longer than most (about 330 lines) on purpose: starting, speaking and ending are kept
in the one class that owns the parts they share, so that no state travels between them as
parameters and the ending's order is written once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from ..config import Settings
from ..errors import PublicError
from ..media.download import DownloadFailed, remuxed_stream
from ..media.encoder import EncoderRecipe, HlsEncoder
from ..media.encoder_feed import EncoderFeed
from ..media.hls import DOWNLOAD_NAME
from ..media.loudness import LoudnessLeveller
from ..media.ready_encoder import READY, ReadyEncoder, discard
from ..observability import MetricUnit, emit_metric, logger, tracer
from ..speech.captions import CaptionTimeline
from ..speech.chunking import first_part
from ..speech.engines import TtsEngine, TtsError, get_engine
from ..store.media_store import MediaStore
from ..store.sessions import Session, SessionStore, SessionUpdate, State, TransitionRefused
from ..workers import Crew
from .audio_budget import AudioBudget
from .chunk_plan import NothingToSpeak, plan_chunks
from .progress import ProgressRecorder
from .publisher import SegmentPublisher
from .revocation import RevocationWatch, Revoked


class ChunkFailed(PublicError):
    pass


class OutOfTime(PublicError):
    """The invocation is about to reach Lambda's timeout: stop while the stream can still be closed."""


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


def _started[Part](part: Part | None) -> Part:
    """A part of the run that ``SessionRun._start`` made: the steps that use it come after it."""
    assert part is not None, "the run was not started"
    return part


class SessionRun:
    """``text`` is the words, or the prompt when the request gave no ``text``; ``deadline``
    (time.monotonic()) is when to stop speaking and close the stream, ahead of Lambda's timeout.
    ``run`` raises only when even FAILURE could not be recorded, so that Lambda hands the event to
    the on-failure destination, whose records end the session."""

    def __init__(
        self,
        session: Session,
        text: str,
        settings: Settings,
        sessions: SessionStore,
        media: MediaStore,
        deadline: float | None = None,
        ready: ReadyEncoder = READY,
    ):
        self.session, self.text, self.deadline = session, text, deadline
        self.settings, self.sessions, self.media, self.ready = settings, sessions, media, ready
        self.crew = Crew()
        self.spoken: list[str] = []
        self.recipe: EncoderRecipe | None = None
        self.encoder: HlsEncoder | None = None
        self.publisher: SegmentPublisher | None = None
        self.feed: EncoderFeed | None = None
        self.captions: CaptionTimeline | None = None
        self.progress = ProgressRecorder(sessions, session.session_id, heartbeat=settings.timing.heartbeat_seconds)
        self.watch = RevocationWatch(sessions, session.session_id)

    @property
    def session_id(self) -> str:
        return self.session.session_id

    @tracer.capture_method
    def run(self) -> State:
        try:
            engine = self._start(get_engine(self.session.engine, self.settings))
            self._speak_all(engine)
            self._publish_the_rest()
            return self.finish(State.SUCCESS)
        except Revoked:
            logger.info("session cancelled: publishing what was encoded")
            return self.finish(State.REVOKED)
        except Exception as error:  # every fault ends the session here, cleanly
            if (self.watch.revoked.is_set() or isinstance(error, TransitionRefused)) and self._was_revoked():
                # Cancelled while it ran: the fault is the cancel's (a refused progress write, a closed feed).
                return self.finish(State.REVOKED)
            logger.exception("session failed")
            return self.finish(State.FAILURE, describe_error(error))
        finally:
            self.crew.close()
            if self.encoder is not None:
                discard(self.encoder)
            if self.recipe is not None and self.settings.speech.ready_encoder:
                self.ready.prepare(self.recipe)  # the next session's, while this instance waits for it

    def _start(self, engine: TtsEngine) -> TtsEngine:
        """The run's parts, its workers started in one place (stopped in reverse order by the crew)."""
        speech = self.settings.speech
        self.recipe = EncoderRecipe(
            engine.sample_rate,
            ffmpeg=speech.ffmpeg_path,
            part_seconds=speech.segment_seconds,
            bitrate=speech.aac_bitrate,
            output_rate=speech.audio_sample_rate,
        )
        self.crew.start(self.watch)
        self.crew.start(self.progress)
        self.encoder = self.ready.take(self.recipe)  # a new one unless a session before this one left it ready
        self.captions = CaptionTimeline(engine.sample_rate, speech.audio_sample_rate) if speech.captions else None
        self.publisher = self.crew.start(
            SegmentPublisher(
                self.session_id,
                self.encoder,
                self.media,
                speech.target_duration,
                on_listed=self._note_listed,
                captions=self.captions,
            )
        )
        leveller = LoudnessLeveller(engine.sample_rate, speech.loudness_lufs)
        self.feed = self.crew.start(EncoderFeed(self.encoder, leveller, name=f"feed-{self.session_id[:8]}"))
        return engine

    def _note_listed(self, count: int, seconds: float) -> None:
        first_listed_at = self.publisher.first_listed_at if self.publisher else None
        self.progress.record(
            SessionUpdate(segments=count, duration=round(seconds, 3), first_segment_at=first_listed_at)
        )

    def _speak_all(self, engine: TtsEngine) -> None:
        """Speak every chunk of the plan into the encoder, noting each in ``spoken`` once it is fed;
        raises Revoked, having fed nothing more, once the session is cancelled."""
        settings = self.settings
        plan = plan_chunks(
            self.session, self.text, settings, engine, self.crew, self.deadline, self.watch.raise_if_revoked
        )
        budget = AudioBudget(settings.limits.max_audio_seconds, engine.sample_rate)
        self.progress.record(SessionUpdate(spoken_as=plan.spoken_as, chunks_total=plan.total_chunks or 0))
        # While the model writes, the most it may write stands in for the unknown total: progress
        # then rises more slowly than the truth, and never goes down.
        expected_chars = plan.total_chars or settings.llm.llm_max_chars
        of_total = f" of {plan.total_chunks}" if plan.total_chunks else ""
        spoken_chars = 0
        for number, chunk in enumerate(plan.chunks, start=1):
            self.watch.raise_if_revoked()
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise OutOfTime(
                    f"generation stopped {settings.timing.finish_margin_seconds:g} s before the function's time limit, "
                    f"after {number - 1} chunks: the text is longer than one invocation can speak"
                )
            if budget.exhausted:
                raise budget.reached()
            whole_chunk, chunk = chunk, first_part(chunk, budget.chars_that_fit(chunk))
            try:
                cut = self._speak_chunk(chunk, engine, budget)
            except TtsError as error:
                raise ChunkFailed(f"speech synthesis failed on chunk {number}{of_total}: {error}") from error
            self.spoken.append(chunk)
            spoken_chars += len(chunk)
            # 100 is kept for SUCCESS: the last segments are still being encoded and uploaded.
            self.progress.record(
                SessionUpdate(chunk_count=number, progress=int(99 * spoken_chars / max(expected_chars, spoken_chars)))
            )
            if cut or chunk != whole_chunk:
                raise budget.reached()
        if not self.spoken:
            raise NothingToSpeak("the language model's answer had nothing to speak")
        _started(self.feed).finish()

    def _speak_chunk(self, chunk: str, engine: TtsEngine, budget: AudioBudget) -> bool:
        """Feed the encoder each piece of the chunk's speech as the engine makes it; answer whether the
        audio budget cut it short."""
        name = f"speech-{self.session_id[:8]}"
        pieces = self.watch.each(engine.stream(chunk, self.session.lang, self.session.voice), name, self.crew)
        chars = len(chunk)  # the rate estimate counts the chunk's characters once, with its first piece
        feed, publisher = _started(self.feed), _started(self.publisher)
        try:
            for speech in pieces:
                fitting = budget.take(speech.pcm, chars)
                chars = 0
                # Timed before ffmpeg has the samples, so a segment's captions are known when it is made.
                if self.captions is not None:
                    self.captions.add(len(fitting) // 2, chunk, speech.sentences, speech.words)
                feed.put(fitting)
                publisher.raise_if_failed()
                self.progress.raise_if_refused()
                if len(fitting) < len(speech.pcm):
                    return True
        finally:
            pieces.close()
        return False

    def _publish_the_rest(self) -> None:
        """Everything fed is encoded and uploaded (a fault here fails the session)."""
        _started(self.encoder).close()
        _started(self.publisher).stop()

    def finish(self, state: State, reason: str | None = None) -> State:
        """End the session in ``state`` (FAILURE with ``reason``), in one order for every ending: what
        was fed is encoded and uploaded (a cancel drops what the feed had not taken), the workers are
        stopped, the playlists closed, then the transcript and (SUCCESS) the file to keep are written,
        the last progress is flushed, and the final state recorded. For SUCCESS each step must work (a
        fault is raised, and the run fails); otherwise each is tried, and the failure logged."""
        strict = state is State.SUCCESS
        if not strict:
            self._publish_what_was_encoded(dropping_unfed=state is State.REVOKED)
        self.crew.close()
        transcript = self._step(strict, "could not close the playlists", self._close_playlists) or False
        download = strict and self._store_download()
        self.progress.flush()
        if strict:
            self.progress.raise_if_refused()
        self._record(state, reason, transcript, download)
        self._report(state)
        return state

    def _step[R](self, strict: bool, failure: str, step: Callable[[], R]) -> R | None:
        if strict:
            return step()
        try:
            return step()
        except Exception:
            logger.exception(failure)
            return None

    def _publish_what_was_encoded(self, dropping_unfed: bool) -> None:
        if self.feed is not None and self.feed.started:
            if dropping_unfed:
                self.feed.discard_waiting()  # a cancel stops the feeding: what was not taken is never encoded
            self.feed.finish_after_fault()
        if self.encoder is not None:
            try:
                self.encoder.close(timeout=10)  # flushes the audio already fed, so it stays playable
            except Exception:
                logger.exception("could not encode all that was fed")
                self.encoder.kill()
        if self.publisher is not None:
            self._step(False, "could not publish the last segments", self.publisher.stop)

    def _close_playlists(self) -> bool:
        """Every playlist closed over what was uploaded, then the transcript; answers whether there is one."""
        if self.publisher is None:  # it ended before there was anything to publish
            target, captions = self.settings.speech.target_duration, self.settings.speech.captions
            self.media.put_closed_empty_playlists(self.session_id, target, captions)
            return False
        self.publisher.close_playlist()
        return self.publisher.write_transcript()

    def _store_download(self) -> bool:
        """audio.m4a beside the segments; answers whether it is stored. The stream is whole without it,
        so a file that cannot be made is logged and left out, and the session still succeeds."""
        try:
            body = remuxed_stream(_started(self.encoder), self.settings.speech.ffmpeg_path)
            self.media.put_download(self.session_id, DOWNLOAD_NAME, body)
        except (DownloadFailed, ClientError, BotoCoreError):
            logger.exception("the file to keep could not be stored")
            return False
        return True

    def _record(self, state: State, reason: str | None, transcript: bool, download: bool) -> None:
        publisher = self.publisher
        published = SessionUpdate(
            spoken_text=" ".join(self.spoken),
            segments=len(publisher.published) if publisher else 0,
            duration=round(publisher.duration, 3) if publisher else 0.0,
            transcript=transcript,
        )
        if state is State.SUCCESS:
            update = SessionUpdate(progress=100, chunks_total=len(self.spoken), download=download).merged_with(
                published
            )
            self.sessions.transition(self.session_id, State.SUCCESS, update)
            return
        try:
            if state is State.REVOKED:  # the cancel made it REVOKED: what it published is recorded
                self.sessions.record_after_revoke(self.session_id, published)
            else:
                self.sessions.transition(
                    self.session_id, State.FAILURE, published.merged_with(SessionUpdate(error=reason))
                )
        except TransitionRefused:
            logger.warning("the session had already ended; %s (%s) not recorded", state.value, reason)
        except (ClientError, BotoCoreError):
            if state is not State.REVOKED:
                raise
            logger.warning("what the cancelled session published could not be recorded", exc_info=True)

    def _was_revoked(self) -> bool:
        try:
            return self.sessions.state_of(self.session_id) is State.REVOKED
        except (ClientError, BotoCoreError):
            return False

    def _report(self, state: State) -> None:
        audio_seconds = self.publisher.duration if self.publisher else 0.0
        first_segment_at = self.publisher.first_listed_at if self.publisher else None
        if first_segment_at is not None:
            emit_metric(
                "TimeToFirstSegment", MetricUnit.Milliseconds, (first_segment_at - self.session.created_at) * 1000
            )
        emit_metric("AudioSecondsProduced", MetricUnit.Seconds, audio_seconds)
        counted = {State.SUCCESS: "SessionsSucceeded", State.REVOKED: "SessionsCancelled"}
        emit_metric(counted.get(state, "SessionsFailed"), MetricUnit.Count, 1)
        logger.info("session ended", extra={"state": state.value, "audio_seconds": round(audio_seconds, 3)})
