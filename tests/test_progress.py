"""Progress reaches DynamoDB merged and throttled, from a timer thread, with nothing lost at the end."""

import threading
import time

from audiostream.generation.progress import ProgressRecorder
from audiostream.store.sessions import Session, SessionUpdate, State


def claimed(sessions) -> str:
    session = sessions.create(Session(session_id="a" * 32, lang="en", engine="espeak", playlist="/p"))
    sessions.transition(session.session_id, State.PROGRESS)
    return session.session_id


def recording_writes(sessions) -> tuple[list, threading.Event]:
    """Wrap the store's progress writes: each write's fields and thread are kept, and the event is set
    once the first write has been applied."""
    writes, first_applied = [], threading.Event()
    record = sessions.record_progress

    def recorded(session_id, update):
        writes.append((update.changes(), threading.current_thread()))
        answer = record(session_id, update)
        first_applied.set()
        return answer

    sessions.record_progress = recorded
    return writes, first_applied


def test_many_reports_become_few_writes_and_the_last_values_win(sessions):
    session_id = claimed(sessions)
    writes, first_applied = recording_writes(sessions)
    # An interval no run of this test lasts: every report after the first waits for the flush.
    progress = ProgressRecorder(sessions, session_id, interval=600, heartbeat=600)
    progress.start()

    progress.record(SessionUpdate(chunk_count=1, progress=0))
    assert first_applied.wait(timeout=10), "the first report is written at once"
    for number in range(2, 101):
        progress.record(SessionUpdate(chunk_count=number, progress=number - 1))
    assert [fields for fields, _ in writes] == [{"chunk_count": 1, "progress": 0}]
    progress.flush()

    assert [fields for fields, _ in writes] == [{"chunk_count": 1, "progress": 0}, {"chunk_count": 100, "progress": 99}]
    assert writes[0][1] is not threading.current_thread(), "reporting must not wait for DynamoDB"
    stored = sessions.get(session_id)
    assert (stored.chunk_count, stored.progress) == (100, 99)


def test_the_first_segments_are_written_at_once_and_later_ones_wait_for_the_interval(sessions):
    """A page starts its player when the status names a segment: that report does not wait."""
    session_id = claimed(sessions)
    writes, first_applied = recording_writes(sessions)
    progress = ProgressRecorder(sessions, session_id, interval=600, heartbeat=600)
    progress.start()
    progress.record(SessionUpdate(spoken_as="text", chunks_total=3))
    assert first_applied.wait(timeout=10)
    progress.record(SessionUpdate(chunk_count=1, progress=30))  # waits: the interval has not passed
    progress.record(SessionUpdate(segments=1, duration=2.0))  # written at once, with what waited
    for _ in range(200):  # the timer thread writes it: up to 10 s on a busy machine
        if len(writes) == 2:
            break
        time.sleep(0.05)
    progress.record(SessionUpdate(segments=2, duration=4.0))  # waits again
    assert [fields for fields, _ in writes] == [
        {"spoken_as": "text", "chunks_total": 3},
        {"chunk_count": 1, "progress": 30, "segments": 1, "duration": 2.0},
    ]
    progress.flush()
    assert writes[-1][0] == {"segments": 2, "duration": 4.0}
    assert sessions.get(session_id).segments == 2


def test_a_heartbeat_touches_the_item_while_nothing_is_reported(sessions):
    session_id = claimed(sessions)
    before = sessions.get(session_id).updated_at
    writes, first_applied = recording_writes(sessions)
    progress = ProgressRecorder(sessions, session_id, interval=0.05, heartbeat=0.2)
    progress.start()
    assert first_applied.wait(timeout=10), "no heartbeat was written"
    progress.flush()
    assert "heartbeat_at" in writes[0][0]
    stored = sessions.get(session_id)
    assert stored.updated_at > before and stored.heartbeat_at > before


def test_a_session_ended_elsewhere_is_reported_to_the_speaker(sessions):
    session_id = claimed(sessions)
    sessions.transition(session_id, State.FAILURE, SessionUpdate(error="ended by the on-failure queue"))
    progress = ProgressRecorder(sessions, session_id, heartbeat=60)
    progress.start()
    progress.record(SessionUpdate(chunk_count=1))
    progress.flush()
    try:
        progress.raise_if_refused()
    except Exception as refused:
        assert type(refused).__name__ == "TransitionRefused"
    else:
        raise AssertionError("the speaker was not told the session had ended")
    assert sessions.get(session_id).chunk_count == 0


def test_reporting_never_waits_for_a_write_in_flight(sessions):
    session_id = claimed(sessions)
    in_flight, release = threading.Event(), threading.Event()
    record = sessions.record_progress

    def slow_write(session_id, update):  # DynamoDB taking its time over the first write
        in_flight.set()
        release.wait(timeout=30)
        return record(session_id, update)

    sessions.record_progress = slow_write
    progress = ProgressRecorder(sessions, session_id, interval=0, heartbeat=600)
    progress.start()
    progress.record(SessionUpdate(chunk_count=1))
    assert in_flight.wait(timeout=10)

    reporter = threading.Thread(target=progress.record, args=(SessionUpdate(chunk_count=2, progress=50),))
    reporter.start()
    reporter.join(timeout=10)
    returned_while_the_write_was_held = not reporter.is_alive()
    release.set()
    progress.flush()
    assert returned_while_the_write_was_held, "record() waited for DynamoDB"
    stored = sessions.get(session_id)
    assert (stored.chunk_count, stored.progress) == (2, 50)  # the newer report was written after the older
