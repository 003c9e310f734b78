"""The content cache: the same words with the same settings are generated once, and heard again at once.

A start whose request matches a session that succeeded, and whose media has not expired, becomes a
session that is SUCCESS from its first answer and plays that session's stream: no generate
invocation, no TTS, no encoding. One that matches a session still generating joins it: its status
follows that session to its end. Everything that changes the sound is in the key (``cache_key``).

Entries live in the sessions table under ``cache#<sha256>`` (never a session id, which is 32 hex
characters), each naming the session that makes or made the stream, and expire with its media: the
bucket's lifecycle rule deletes objects no earlier than ``SESSION_TTL_DAYS`` after they were written,
and an entry is served only before its source's item expires, which is that long after the source
began, so an entry whose media is gone is never served. Claiming a key is one conditional write, so
two identical starts at the same moment make one generation: the second finds the first's claim.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import unicodedata
from dataclasses import dataclass

from botocore.exceptions import ClientError

from .. import aws
from ..config import Settings
from .sessions import Session, SessionStore, State, is_condition_failure

FORMAT_VERSION = 1  # of the stream's files; a change that alters them changes this
_PREFIX = "cache#"


def normalized(text: str) -> str:
    """The words as the cache compares them: Unicode NFC, trimmed, each run of whitespace one space;
    case is kept (it can change how a word is said)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def cache_key(
    text: str,
    engine: str,
    engine_version: str,
    voice: str | None,
    lang: str,
    settings: Settings,
    expanded_by_model: bool = False,
) -> str:
    """``expanded_by_model``: ``text`` is a prompt a language model writes the words for (cached only
    when the request asks), so the model is part of what is heard."""
    speech, llm = settings.speech, settings.llm
    fields = {
        "format": FORMAT_VERSION,
        "text": normalized(text),
        "model": [llm.openai_base_url, llm.openai_model] if expanded_by_model else None,
        "engine": engine,
        "engine_version": engine_version,
        "voice": voice,
        "lang": lang,
        "sample_rate": speech.audio_sample_rate,
        "bit_rate": speech.aac_bitrate,
        "segment_seconds": speech.segment_seconds,
        "longest_segment_seconds": speech.longest_segment_seconds,
        "loudness_lufs": speech.loudness_lufs,
        "captions": speech.captions,
        "polly_speech_marks": speech.polly_speech_marks if engine == "polly" else None,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


# A hit is served only while its media will outlast a listener: the longest session is ten minutes.
_SERVED_UNTIL_MARGIN_SECONDS = 3600


@dataclass(frozen=True)
class Found:
    """What the cache holds for a key: the session that makes or made its stream (its item is None
    for the moment between another start's claim and its write of the session)."""

    source_id: str
    source: Session | None


class ContentCache:
    def __init__(self, sessions: SessionStore):
        self.sessions = sessions

    def claim(self, key: str, session_id: str) -> Found | None:
        """Make ``session_id`` the key's source, unless a usable source holds it; answers that source
        (None: the claim is ours, generate the stream). A source that failed, was cancelled, or whose
        media has expired is replaced."""
        for _ in range(3):  # a source replaced by another start meanwhile: look again
            try:
                self._write(key, session_id, condition="attribute_not_exists(session_id)")
                return None
            except ClientError as error:
                if not is_condition_failure(error):
                    raise
            holder = self._holder(key)
            if holder is None:
                continue  # expired and removed meanwhile
            source = self.sessions.get(holder)
            if source is None and holder != session_id:
                return Found(holder, None)  # claimed by a start that is writing its session now
            if source is not None and _usable(source):
                return Found(holder, source)
            try:
                self._write(key, session_id, condition="#source = :holder", holder=holder)
                return None
            except ClientError as error:
                if not is_condition_failure(error):
                    raise
        return None  # contended three times over: generate rather than wait

    def _write(self, key: str, session_id: str, condition: str, holder: str | None = None) -> None:
        expected = {}
        if holder is not None:
            expected = {
                "ExpressionAttributeNames": {"#source": "source"},
                "ExpressionAttributeValues": {":holder": {"S": holder}},
            }
        aws.dynamodb().put_item(
            TableName=self.sessions.table,
            Item={
                "session_id": {"S": _PREFIX + key},
                "source": {"S": session_id},
                "expires_at": {"N": str(int(time.time()) + self.sessions.ttl_seconds)},
            },
            ConditionExpression=condition,
            **expected,
        )

    def _holder(self, key: str) -> str | None:
        answer = aws.dynamodb().get_item(
            TableName=self.sessions.table, Key={"session_id": {"S": _PREFIX + key}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return item["source"]["S"] if item else None


def following(session: Session, source: Session | None) -> Session:
    """A session served from the content cache as its source says it is: the source's state, progress
    and files under this session's own id (None: the source's item is being written; PENDING). The
    status answers a session following a source still generating this way; a hit is made this way."""
    if source is None:
        return dataclasses.replace(session, state=State.PENDING)
    return dataclasses.replace(
        source,
        session_id=session.session_id,
        text_given=session.text_given,
        media_of=session.media_of,
        created_at=session.created_at,
        expires_at=session.expires_at,
    )


def _usable(source: Session) -> bool:
    """A source still making its stream, or one that made it and whose media is there."""
    if source.state in (State.FAILURE, State.REVOKED) or source.media_of:
        return False
    return source.expires_at > time.time() + _SERVED_UNTIL_MARGIN_SECONDS
