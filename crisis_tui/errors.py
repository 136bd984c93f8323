"""Errors a user can act on. Each carries a message fit to show as one line.

The CLI and the TUI catch `CrisisError` and show `str(error)`; anything else is
a bug and may surface as a traceback.
"""

from __future__ import annotations

from typing import Any


class CrisisError(Exception):
    """Base of every error whose message is meant for the operator."""

    #: HTTP status the server answers with; the HTTP store maps it back.
    status_code: int = 400
    code: str = "error"

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "detail": str(self)}


class InvalidInput(CrisisError):
    """Input that breaks the rules: names the field and the problem."""

    status_code = 422
    code = "invalid"

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "detail": str(self), "field": self.field, "problem": self.problem}


class NotFound(CrisisError):
    status_code = 404
    code = "not_found"


class Forbidden(CrisisError):
    """The actor's role may not do this (e.g. approve without decision power)."""

    status_code = 403
    code = "forbidden"


class ClaimConflict(CrisisError):
    """Someone else holds the comment: the loser learns who."""

    status_code = 409
    code = "claim_conflict"

    def __init__(self, comment_id: int, holder: str | None, status: str) -> None:
        self.comment_id = comment_id
        self.holder = holder
        self.status = status
        if holder:
            msg = f"comment {comment_id} is held by {holder}"
        else:
            msg = f"comment {comment_id} cannot be claimed: it is {status.replace('_', ' ')}"
        super().__init__(msg)

    def to_json(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "detail": str(self),
            "comment_id": self.comment_id,
            "holder": self.holder,
            "status": self.status,
        }


class NoticeTaken(CrisisError):
    """Another notify runner is sending this event's notice, or it went out already: the loser
    learns which, and how long until a claim left by a runner that stopped may be taken over."""

    status_code = 409
    code = "notice_taken"

    def __init__(self, about_seq: int, detail: str, retry_after: float | None) -> None:
        self.about_seq = about_seq
        self.retry_after = retry_after
        super().__init__(detail)

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "detail": str(self), "about_seq": self.about_seq, "retry_after": self.retry_after}


class DraftConflict(CrisisError):
    """A save based on an old version: carries the current draft, so nothing is lost."""

    status_code = 409
    code = "draft_conflict"

    def __init__(self, current: Any, based_on: int) -> None:
        self.current = current
        self.based_on = based_on
        super().__init__(
            f"draft {current.id} changed: you edited version {based_on}, "
            f"{current.author} saved version {current.version}"
        )

    def to_json(self) -> dict[str, Any]:
        import msgspec

        return {
            "error": self.code,
            "detail": str(self),
            "based_on": self.based_on,
            "current": msgspec.to_builtins(self.current),
        }


class PlaybookError(CrisisError):
    """A playbook that cannot be used: one line naming the file, the key and the problem."""

    code = "playbook"

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(f"{where}{problem}")


class SeatsError(CrisisError):
    """A seats file that cannot be used: one line naming the file, the key and the problem."""

    code = "seats"

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(f"{where}{problem}")


class StoreUnavailable(CrisisError):
    """The backend cannot be reached or opened (dead server, unreadable file)."""

    status_code = 503
    code = "unavailable"


class StorageFault(StoreUnavailable):
    """The incident file's disk said no: full, read-only, damaged, failing, or not an incident
    file at all. A refused write kept nothing of itself; what was written before is intact."""


class DamagedFile(StorageFault):
    """SQLite found corrupted pages: `crisis-tui verify` says where."""


class DiskFull(StorageFault):
    """No space left for the write: it goes in once space is freed (nothing was lost before it)."""


class PublishFailed(CrisisError):
    """The platform did not take an approved reply: the draft stays approved, sending retries."""

    status_code = 502
    code = "publish_failed"


class Unauthorized(CrisisError):
    """No token, or one the server does not know (or has revoked)."""

    status_code = 401
    code = "unauthorized"


class PayloadTooLarge(CrisisError):
    """A request body over the server's limit: refused before any of it is used."""

    status_code = 413
    code = "too_large"


class RateLimited(CrisisError):
    """Past the per-token request rate; `retry_after` says when to try again."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(detail)

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "detail": str(self), "retry_after": self.retry_after}
