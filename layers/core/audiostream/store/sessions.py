"""Sessions in DynamoDB: one item per session, moved through its states by conditional updates only.

PENDING -> PROGRESS -> SUCCESS, PENDING | PROGRESS -> FAILURE, and PENDING | PROGRESS -> REVOKED (cancelled;
Celery's name, which the seed's clients know). Every write is conditional on the
state it expects, so a duplicate or late event can never move a session backwards or overwrite an
ended one.

The item holds no text while the session runs: DynamoDB bills an update by the size of the whole item,
and generate writes progress every half second. The words travel to generate in its event; what was
spoken is written once, when the session ends.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any, get_args, get_type_hints

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from .. import aws
from ..config import Settings


class State(StrEnum):
    PENDING = "PENDING"
    PROGRESS = "PROGRESS"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    REVOKED = "REVOKED"

    @property
    def ended(self) -> bool:
        return self in (State.SUCCESS, State.FAILURE, State.REVOKED)


ALLOWED_TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.PROGRESS, State.FAILURE, State.REVOKED}),
    State.PROGRESS: frozenset({State.SUCCESS, State.FAILURE, State.REVOKED}),
    State.SUCCESS: frozenset(),
    State.FAILURE: frozenset(),
    State.REVOKED: frozenset(),
}


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
    lang: str
    engine: str
    playlist: str
    state: State = State.PENDING
    voice: str | None = None
    # True when the request gave ``text`` (spoken verbatim); else the words are a prompt.
    text_given: bool = False
    # How generate got the words: "text", "llm" (the prompt expanded), "prompt" (spoken as written).
    spoken_as: str | None = None
    spoken_text: str = ""  # written when the session ends
    captions: bool = False  # the stream has master.m3u8 and subs.m3u8
    transcript: bool = False  # transcript.json is stored (written when the session ends)
    download: bool = False  # audio.m4a is stored (written when the session succeeds)
    # Served from the content cache: the session whose stream this one plays (and, while that one
    # is generating, follows to its end); None for a session with a stream of its own.
    media_of: str | None = None
    heartbeat_at: float = 0.0
    claimed_by: str | None = None
    started_at: float = 0.0
    chunk_count: int = 0
    chunks_total: int = 0
    segments: int = 0
    duration: float = 0.0
    first_segment_at: float | None = None  # Unix time the playlist first named a segment
    progress: int = 0
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = 0.0
    expires_at: int = 0


@dataclass(frozen=True, kw_only=True)
class SessionUpdate:
    """The fields generate and the drain change on a session; None leaves a field as it is.
    Typed, so that a misspelt name fails where it is written instead of being stored and never read."""

    # While it runs: what was spoken and listed, and a sign of life.
    chunk_count: int | None = None
    chunks_total: int | None = None
    segments: int | None = None
    duration: float | None = None
    first_segment_at: float | None = None
    """Unix time the playlist first named a segment."""
    progress: int | None = None
    heartbeat_at: float | None = None
    """Written while nothing else is, so that silence means the invocation died (status: stalled)."""
    # Once it has begun speaking, then with its final state: how and what it spoke, what it left.
    spoken_as: str | None = None
    """``text``, ``prompt`` (spoken as written: no model configured) or ``llm``."""
    spoken_text: str | None = None
    error: str | None = None
    transcript: bool | None = None
    """transcript.json is stored."""
    download: bool | None = None
    """audio.m4a, the file to keep, is stored."""

    def changes(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def merged_with(self, newer: SessionUpdate) -> SessionUpdate:
        """This update with ``newer``'s values where it has any."""
        return replace(self, **newer.changes())


# The item's attributes are the Session's fields; DynamoDB gives numbers back as Decimal, so each
# field's declared type says whether it is read as int or float.
_FIELD_TYPES = get_type_hints(Session)
_INT_FIELDS = frozenset(name for name, kind in _FIELD_TYPES.items() if int in (kind, *get_args(kind)))
if unknown := {f.name for f in fields(SessionUpdate)} - set(_FIELD_TYPES):
    raise TypeError(f"SessionUpdate names fields that Session lacks: {sorted(unknown)}")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# An attribute's value as DynamoDB's low-level API writes it ({"S": "..."}, {"N": "3"}, ...); an item.
AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]


def _to_attribute(value: Any) -> AttributeValue:
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif isinstance(value, State):
        value = value.value
    attribute: AttributeValue = _serializer.serialize(value)
    return attribute


def _to_item(session: Session) -> Item:
    return {
        f.name: _to_attribute(getattr(session, f.name)) for f in fields(Session) if getattr(session, f.name) is not None
    }


def _from_item(item: Item) -> Session:
    data = {}
    for name, attribute in item.items():
        if name not in _FIELD_TYPES:
            continue  # an attribute of a newer version of the code, or of a person's hand
        value = _deserializer.deserialize(attribute)
        if isinstance(value, Decimal):
            value = int(value) if name in _INT_FIELDS else float(value)
        data[name] = value
    data["state"] = State(data["state"])
    return Session(**data)


def is_condition_failure(error: ClientError) -> bool:
    """A conditional write refused because the item was not as it expected."""
    code: str | None = error.response.get("Error", {}).get("Code")
    return code == "ConditionalCheckFailedException"


class SessionStore:
    def __init__(self, table: str, ttl_days: int):
        self.table = table
        self.ttl_seconds = ttl_days * 86400

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionStore:
        return cls(settings.storage.sessions_table, settings.storage.session_ttl_days)

    def create(self, session: Session) -> Session:
        now = time.time()
        session.created_at = session.updated_at = now
        session.expires_at = session.expires_at or int(now) + self.ttl_seconds
        aws.dynamodb().put_item(
            TableName=self.table,
            Item=_to_item(session),
            ConditionExpression="attribute_not_exists(session_id)",
        )
        return session

    def get(self, session_id: str) -> Session | None:
        answer = aws.dynamodb().get_item(
            TableName=self.table, Key={"session_id": {"S": session_id}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return _from_item(item) if item else None

    def transition(
        self,
        session_id: str,
        target: State,
        update: SessionUpdate | None = None,
        *,
        only_from: State | None = None,
    ) -> Session:
        """Move the session to ``target`` if its current state allows it (and is ``only_from``, when
        given); else raise TransitionRefused."""
        sources = [state for state, targets in ALLOWED_TRANSITIONS.items() if target in targets]
        if only_from is not None:
            sources = [state for state in sources if state is only_from]
        if not sources:
            raise TransitionRefused(f"session {session_id}: no state leads to {target.value}")
        values = {f":from{i}": _to_attribute(state) for i, state in enumerate(sources)}
        condition = "#state IN (" + ", ".join(values) + ")"
        changes = update.changes() if update else {}
        return self._update(session_id, {"state": target, **changes}, condition, values)

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

    def state_of(self, session_id: str) -> State | None:
        """The session's state alone (a strongly consistent read of one attribute); None if unknown."""
        answer = aws.dynamodb().get_item(
            TableName=self.table,
            Key={"session_id": {"S": session_id}},
            ConsistentRead=True,
            ProjectionExpression="#state",
            ExpressionAttributeNames={"#state": "state"},
        )
        item = answer.get("Item")
        return State(item["state"]["S"]) if item else None

    def record_after_revoke(self, session_id: str, update: SessionUpdate) -> Session:
        """What generate published before it stopped, on a session cancelled while it ran (the state
        stays REVOKED); TransitionRefused if it is not REVOKED."""
        return self._update(
            session_id, update.changes(), "#state = :revoked", {":revoked": _to_attribute(State.REVOKED)}
        )

    def record_progress(self, session_id: str, update: SessionUpdate) -> Session:
        """Update progress fields of a session in PROGRESS; TransitionRefused if it is no longer."""
        return self._update(
            session_id,
            update.changes(),
            "#state = :progress",
            {":progress": _to_attribute(State.PROGRESS)},
        )

    def _update(
        self, session_id: str, changes: dict[str, Any], condition: str, values: dict[str, AttributeValue]
    ) -> Session:
        changes = {**changes, "updated_at": time.time()}
        names = {"#state": "state"}
        assignments = []
        for i, (key, value) in enumerate(changes.items()):
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
            if is_condition_failure(error):
                raise TransitionRefused(f"session {session_id}: {condition} does not hold") from error
            raise
        return _from_item(answer["Attributes"])
