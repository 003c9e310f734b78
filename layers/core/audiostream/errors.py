"""The one kind of error whose message people may read.

A ``PublicError``'s message is written for the service's users: it ends up in a session's ``error``
(which anyone with the id reads) or in an HTTP answer's JSON body. It says what failed in words a
user understands, never a URL, a path, an ARN or a provider's own message: those go to the log,
under the session id, where the error is raised. Any other exception is logged and replaced by a
generic sentence.
"""

from __future__ import annotations


class PublicError(Exception):
    """An error whose message may be shown to users. ``status`` is the HTTP answer's when it ends a
    request (500 unless a subclass says otherwise); ``field`` names the request field at fault;
    ``headers`` go with that answer; ``details`` are further public fields of its JSON body."""

    status: int = 500
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field
        if status is not None:
            self.status = status
        self.headers: dict[str, str] = {}
        self.details: dict[str, object] = {}
