"""The seed-compatible task-status answer for a session."""

from __future__ import annotations

from .sessions import Session, State


def status_sentence(session: Session) -> str:
    if session.state is State.PENDING:
        return "Task is pending"
    if session.state is State.PROGRESS:
        return f"Task is in progress: {session.chunk_count} of {session.chunks_total or '?'} chunks spoken"
    if session.state is State.SUCCESS:
        return "Task completed successfully"
    return f"Task failed: {session.error}"


def describe_status(session: Session) -> dict:
    answer = {
        "task_id": session.session_id,
        "session_id": session.session_id,
        "state": session.state.value,
        "status": status_sentence(session),
        "playlist": session.playlist,
    }
    if session.state is not State.PENDING:
        answer.update(
            event="chunk",
            chunk_count=session.chunk_count,
            chunks_total=session.chunks_total,
            segments=session.segments,
            duration=session.duration,
            progress=session.progress,
        )
    if session.state is State.SUCCESS:
        answer["result"] = {"playlist": session.playlist}
    if session.state is State.FAILURE:
        answer["error"] = session.error or "unknown error"
    return answer
