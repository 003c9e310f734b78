import itertools

import pytest

from audiostream.store.sessions import (
    ALLOWED_TRANSITIONS,
    Session,
    SessionUpdate,
    State,
    TransitionRefused,
    is_session_id,
    new_session_id,
)

from support.concurrency import at_once

ALLOWED = {
    (State.PENDING, State.PROGRESS),
    (State.PENDING, State.FAILURE),
    (State.PROGRESS, State.SUCCESS),
    (State.PROGRESS, State.FAILURE),
    (State.PENDING, State.REVOKED),
    (State.PROGRESS, State.REVOKED),
}
EVERY_PAIR = list(itertools.product(State, State))


def new_session(sessions, state=State.PENDING) -> Session:
    session = sessions.create(Session(session_id=new_session_id(), lang="en", engine="espeak", playlist="/p"))
    path = {
        State.PENDING: [],
        State.PROGRESS: [State.PROGRESS],
        State.SUCCESS: [State.PROGRESS, State.SUCCESS],
        State.FAILURE: [State.FAILURE],
        State.REVOKED: [State.PROGRESS, State.REVOKED],
    }[state]
    for step in path:
        sessions.transition(session.session_id, step)
    return session


@pytest.mark.parametrize("current, target", EVERY_PAIR)
def test_the_state_machine_allows_exactly_the_forward_transitions(current, target):
    assert (target in ALLOWED_TRANSITIONS[current]) == ((current, target) in ALLOWED)


@pytest.mark.parametrize("current, target", EVERY_PAIR)
def test_dynamodb_enforces_every_transition(sessions, current, target):
    session = new_session(sessions, current)
    if (current, target) in ALLOWED:
        updated = sessions.transition(
            session.session_id, target, SessionUpdate(error="x" if target is State.FAILURE else None)
        )
        assert updated.state is target
    else:
        with pytest.raises(TransitionRefused):
            sessions.transition(session.session_id, target)
    expected = target if (current, target) in ALLOWED else current
    assert sessions.get(session.session_id).state is expected


def test_ended_states_allow_nothing():
    ended = [state for state in State if state.ended]
    assert ended == [State.SUCCESS, State.FAILURE, State.REVOKED]
    assert all(ALLOWED_TRANSITIONS[state] == frozenset() for state in ended)


def test_only_a_revoked_session_takes_what_generate_published_after_the_cancel(sessions):
    running, revoked = new_session(sessions, State.PROGRESS), new_session(sessions, State.REVOKED)
    assert sessions.record_after_revoke(revoked.session_id, SessionUpdate(segments=3)).segments == 3
    with pytest.raises(TransitionRefused):
        sessions.record_after_revoke(running.session_id, SessionUpdate(segments=3))
    assert sessions.state_of(revoked.session_id) is State.REVOKED and sessions.state_of(new_session_id()) is None


def test_a_new_session_is_pending_with_a_ttl(sessions, settings):
    session = new_session(sessions)
    stored = sessions.get(session.session_id)
    assert stored.state is State.PENDING
    assert stored.engine == "espeak"
    assert stored.expires_at - stored.created_at == pytest.approx(settings.storage.session_ttl_days * 86400, abs=2)


def test_a_session_id_is_never_created_twice(sessions):
    session = new_session(sessions)
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        sessions.create(Session(session_id=session.session_id, lang="de", engine="espeak", playlist="/p"))
    assert sessions.get(session.session_id).lang == "en"


def test_claim_succeeds_once(sessions):
    session = new_session(sessions)
    claimed = sessions.claim(session.session_id)
    assert claimed.state is State.PROGRESS and claimed.engine == "espeak"
    assert sessions.claim(session.session_id) is None


def test_of_simultaneous_claims_exactly_one_wins(sessions):
    session = new_session(sessions)
    claims = at_once(8, lambda i: sessions.claim(session.session_id, claimant=f"claimant-{i}"))
    winners = [i for i, claimed in enumerate(claims) if claimed is not None]
    assert len(winners) == 1, claims
    assert claims[winners[0]].claimed_by == f"claimant-{winners[0]}"
    stored = sessions.get(session.session_id)
    assert stored.state is State.PROGRESS and stored.claimed_by == f"claimant-{winners[0]}"


def test_of_simultaneous_ends_exactly_one_wins(sessions):
    session = new_session(sessions, State.PROGRESS)
    ends = [State.SUCCESS, State.FAILURE] * 4  # the generator finishing while the drain ends it, say
    answers = at_once(len(ends), lambda i: sessions.transition(session.session_id, ends[i], SessionUpdate(progress=i)))
    winners = [i for i, answer in enumerate(answers) if not isinstance(answer, TransitionRefused)]
    assert len(winners) == 1, answers
    assert answers[winners[0]].state is ends[winners[0]]
    stored = sessions.get(session.session_id)
    assert (stored.state, stored.progress) == (ends[winners[0]], winners[0])


def test_claiming_an_unknown_session_does_not_create_it(sessions):
    unknown = new_session_id()
    assert sessions.claim(unknown) is None
    assert sessions.get(unknown) is None


def test_progress_is_recorded_only_while_in_progress(sessions):
    session = new_session(sessions, State.PROGRESS)
    sessions.record_progress(session.session_id, SessionUpdate(chunk_count=2, progress=40, duration=3.5))
    stored = sessions.get(session.session_id)
    assert (stored.chunk_count, stored.progress, stored.duration) == (2, 40, 3.5)
    sessions.transition(session.session_id, State.SUCCESS, SessionUpdate(progress=100))
    with pytest.raises(TransitionRefused):
        sessions.record_progress(session.session_id, SessionUpdate(progress=50))
    assert sessions.get(session.session_id).progress == 100


def test_session_ids_are_128_random_bits_in_hex():
    ids = {new_session_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(is_session_id(value) for value in ids)
    assert not is_session_id("../" + "a" * 29)
    assert not is_session_id("A" * 32)


def test_a_transition_can_be_limited_to_one_source_state(sessions):
    session = new_session(sessions, State.PROGRESS)
    with pytest.raises(TransitionRefused):
        sessions.transition(session.session_id, State.FAILURE, SessionUpdate(error="late"), only_from=State.PENDING)
    assert sessions.get(session.session_id).state is State.PROGRESS
    pending = new_session(sessions)
    assert (
        sessions.transition(pending.session_id, State.FAILURE, SessionUpdate(error="x"), only_from=State.PENDING).state
        is State.FAILURE
    )
