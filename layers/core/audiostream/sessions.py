"""Sessions in DynamoDB: one item per session, moved through its states by conditional updates only.

PENDING -> PROGRESS -> SUCCESS, and PENDING | PROGRESS -> FAILURE. Every write is conditional on the
state it expects, so a duplicate or late event can never move a session backwards or overwrite an
ended one.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from . import aws
from .config import Settings


class State(StrEnum):
    PENDING = "PENDING"
    PROGRESS = "PROGRESS"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"

    @property
    def ended(self) -> bool:
        return self in (State.SUCCESS, State.FAILURE)


ALLOWED_TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.PROGRESS, State.FAILURE}),
    State.PROGRESS: frozenset({State.SUCCESS, State.FAILURE}),
    State.SUCCESS: frozenset(),
    State.FAILURE: frozenset(),
}


def can_transition(current: State, target: State) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def new_session_id() -> str:
    """128 random bits: the session's media is readable by whoever knows the id."""
    return secrets.token_hex(16)


def is_session_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


class TransitionRefused(Exception):
    """The session was not in a state from which the requested change is allowed."""


@dataclass
class Session:
    session_id: str
    text: str
    lang: str
    engine: str
    playlist: str
    state: State = State.PENDING
    prompt: str | None = None
    voice: str | None = None
    # True when the request gave ``text`` (spoken verbatim); else ``text`` is the prompt.
    text_given: bool = False
    # How generate got the words: "text", "llm" (the prompt expanded), "prompt" (spoken as written).
    spoken_as: str | None = None
    spoken_text: str = ""
    heartbeat_at: float = 0.0
    claimed_by: str | None = None
    started_at: float = 0.0
    chunk_count: int = 0
    chunks_total: int = 0
    segments: int = 0
    duration: float = 0.0
    progress: int = 0
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = 0.0
    expires_at: int = 0


_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_attribute(value: Any) -> dict:
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif isinstance(value, State):
        value = value.value
    return _serializer.serialize(value)


def _from_item(item: dict) -> Session:
    data = {key: _deserializer.deserialize(value) for key, value in item.items()}
    for key in ("chunk_count", "chunks_total", "segments", "progress", "expires_at"):
        if key in data:
            data[key] = int(data[key])
    for key in ("duration", "created_at", "updated_at", "heartbeat_at", "started_at"):
        if key in data:
            data[key] = float(data[key])
    data["state"] = State(data["state"])
    known = Session.__dataclass_fields__
    return Session(**{key: value for key, value in data.items() if key in known})


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class SessionStore:
    def __init__(self, table: str, ttl_days: int):
        self.table = table
        self.ttl_seconds = ttl_days * 86400

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionStore:
        return cls(settings.sessions_table, settings.session_ttl_days)

    def create(self, session: Session) -> Session:
        now = time.time()
        session.created_at = session.updated_at = now
        session.expires_at = int(now) + self.ttl_seconds
        item = {key: _to_attribute(value) for key, value in session.__dict__.items() if value is not None}
        aws.dynamodb().put_item(
            TableName=self.table,
            Item=item,
            ConditionExpression="attribute_not_exists(session_id)",
        )
        return session

    def get(self, session_id: str) -> Session | None:
        answer = aws.dynamodb().get_item(
            TableName=self.table, Key={"session_id": {"S": session_id}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return _from_item(item) if item else None

    def transition(self, session_id: str, target: State, *, only_from: State | None = None, **fields: Any) -> Session:
        """Move the session to ``target`` if its current state allows it (and is ``only_from``, when
        given); else raise TransitionRefused."""
        sources = [state for state, targets in ALLOWED_TRANSITIONS.items() if target in targets]
        if only_from is not None:
            sources = [state for state in sources if state is only_from]
        if not sources:
            raise TransitionRefused(f"session {session_id}: no state leads to {target.value}")
        values = {f":from{i}": _to_attribute(state) for i, state in enumerate(sources)}
        condition = "#state IN (" + ", ".join(values) + ")"
        return self._update(session_id, {"state": target, **fields}, condition, values)

    def claim(self, session_id: str, claimant: str | None = None) -> Session | None:
        """PENDING -> PROGRESS, answering the claimed session; None if another claimant has it (a
        duplicate delivery of the same event) or the id is unknown.

        ``claimant`` is random per attempt, and a claim it already holds succeeds again: if DynamoDB
        applied the write but its answer was lost, the client's retry must not mistake its own
        claim for someone else's and leave the session in PROGRESS with nobody generating it."""
        claimant = claimant or uuid.uuid4().hex
        try:
            return self._update(
                session_id,
                {"state": State.PROGRESS, "claimed_by": claimant, "started_at": time.time()},
                "(#state = :pending OR (#state = :progress AND claimed_by = :claimant))",
                {
                    ":pending": _to_attribute(State.PENDING),
                    ":progress": _to_attribute(State.PROGRESS),
                    ":claimant": _to_attribute(claimant),
                },
            )
        except TransitionRefused:
            return None

    def record_progress(self, session_id: str, **fields: Any) -> Session:
        """Update progress fields of a session in PROGRESS; TransitionRefused if it is no longer."""
        return self._update(
            session_id,
            fields,
            "#state = :progress",
            {":progress": _to_attribute(State.PROGRESS)},
        )

    def _update(self, session_id: str, fields: dict, condition: str, values: dict) -> Session:
        fields = {**{key: value for key, value in fields.items() if value is not None}, "updated_at": time.time()}
        names = {"#state": "state"}
        assignments = []
        for i, (key, value) in enumerate(fields.items()):
            names[f"#f{i}"] = key
            values[f":v{i}"] = _to_attribute(value)
            assignments.append(f"#f{i} = :v{i}")
        try:
            answer = aws.dynamodb().update_item(
                TableName=self.table,
                Key={"session_id": {"S": session_id}},
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression=f"attribute_exists(session_id) AND {condition}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                raise TransitionRefused(f"session {session_id}: {condition} does not hold") from error
            raise
        return _from_item(answer["Attributes"])
