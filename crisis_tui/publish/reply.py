"""What a publisher is given and what it answers, and the protocol every publisher follows.

A public statement is an `Outgoing` post of its own on the account the playbook names;
a reply is one addressed to the comment it answers.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import msgspec

from crisis_tui.model import Comment


class Outgoing(msgspec.Struct, frozen=True, kw_only=True):
    """One approved version of a draft, as it is posted (a statement: a new post of its own)."""

    incident_id: str
    draft_id: int
    version: int
    text: str

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt at this version, so a retry after a timeout or a crash
        between "posted" and "recorded" is recognised by the platform and never posts twice."""
        seed = f"crisis-tui\x00{self.incident_id}\x00{self.draft_id}\x00{self.version}"
        return hashlib.sha256(seed.encode()).hexdigest()[:40]


class Reply(Outgoing, frozen=True, kw_only=True):
    """One approved version of a reply, addressed to the comment it answers."""

    comment: Comment


class Posted(msgspec.Struct, frozen=True, kw_only=True):
    """The platform's own name for what it published."""

    post_id: str
    url: str = ""


class Publisher(Protocol):
    """Posts a reply on one platform; raises PublishFailed with a one-line reason."""

    platform: str

    def can_answer(self, comment: Comment) -> bool:
        """Whether the comment carries what a reply to it needs (its post's id on the platform);
        a comment that does not goes out by hand."""
        ...

    async def post(self, reply: Reply) -> Posted: ...

    async def post_statement(self, statement: Outgoing) -> Posted:
        """A public statement as a new post (not a reply) on the playbook's statement account."""
        ...
