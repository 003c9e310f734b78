"""The seed-compatible task-status answer for a session."""

from __future__ import annotations

from .sessions import Session, State

VERBATIM_NOTE = " (no language model is configured, so the prompt is spoken as written)"


def status_sentence(session: Session) -> str:
    note = VERBATIM_NOTE if session.spoken_as == "prompt" else ""
    if session.state is State.PENDING:
        return "Task is pending"
    if session.state is State.PROGRESS:
        if session.spoken_as == "llm":
            return f"Task is in progress: the language model is writing; {session.chunk_count} chunks spoken so far"
        return f"Task is in progress: {session.chunk_count} of {session.chunks_total or '?'} chunks spoken{note}"
    if session.state is State.SUCCESS:
        return f"Task completed successfully{note}"
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
            spoken_as=session.spoken_as,
            spoken_text=session.spoken_text,
        )
    if session.state is State.SUCCESS:
        answer["result"] = {"playlist": session.playlist}
    if session.state is State.FAILURE:
        answer["error"] = session.error or "unknown error"
    return answer
