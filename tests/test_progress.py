"""Progress reaches DynamoDB merged and throttled, from a timer thread, with nothing lost at the end."""

import time

from audiostream.progress import ProgressRecorder
from audiostream.sessions import Session, SessionUpdate, State


def claimed(sessions) -> str:
    session = sessions.create(Session(session_id="a" * 32, text="Hi.", lang="en", engine="espeak", playlist="/p"))
    sessions.transition(session.session_id, State.PROGRESS)
    return session.session_id


def test_many_reports_become_few_writes_and_the_last_values_win(sessions):
    session_id = claimed(sessions)
    writes = []
    record = sessions.record_progress
    sessions.record_progress = lambda sid, update: (writes.append(update), record(sid, update))[1]
    progress = ProgressRecorder(sessions, session_id, interval=0.5, heartbeat=60)

    began = time.monotonic()
    for number in range(1, 101):
        progress.record(SessionUpdate(chunk_count=number, progress=number - 1))
    recorded_in = time.monotonic() - began
    time.sleep(0.1)
    assert len(writes) == 1  # the first report, written at once by the timer thread
    progress.flush()

    assert recorded_in < 0.1, "reporting must not wait for DynamoDB"
    assert len(writes) == 2
    stored = sessions.get(session_id)
    assert (stored.chunk_count, stored.progress) == (100, 99)


def test_a_heartbeat_touches_the_item_while_nothing_is_reported(sessions):
    session_id = claimed(sessions)
    before = sessions.get(session_id).updated_at
    progress = ProgressRecorder(sessions, session_id, interval=0.05, heartbeat=0.2)
    time.sleep(0.7)
    progress.flush()
    stored = sessions.get(session_id)
    assert stored.updated_at > before and stored.heartbeat_at > before


def test_a_session_ended_elsewhere_is_reported_to_the_speaker(sessions):
    session_id = claimed(sessions)
    sessions.transition(session_id, State.FAILURE, SessionUpdate(error="ended by the on-failure queue"))
    progress = ProgressRecorder(sessions, session_id, heartbeat=60)
    progress.record(SessionUpdate(chunk_count=1))
    progress.flush()
    try:
        progress.raise_if_refused()
    except Exception as refused:
        assert type(refused).__name__ == "TransitionRefused"
    else:
        raise AssertionError("the speaker was not told the session had ended")
    assert sessions.get(session_id).chunk_count == 0
