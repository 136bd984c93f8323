"""Which publisher a comment's reply (or a public statement) goes through, and the record of one attempt."""

from __future__ import annotations

from crisis_tui import events as ev
from crisis_tui.errors import PublishFailed
from crisis_tui.model import Comment
from crisis_tui.playbook import Playbook
from crisis_tui.publish.reply import Outgoing, Publisher, Reply


def publisher_for(playbook: Playbook, platform: str) -> Publisher | None:
    """The playbook's publisher for `platform`, or None."""
    settings = playbook.publish.get(platform)
    if settings is None:
        return None
    # Imported here: the publishers bring httpx, 40 ms of every start of a room or a wallboard
    # (the store imports this module), and only a playbook that publishes ever builds one.
    if platform == "mastodon":
        from crisis_tui.publish.mastodon import MastodonPublisher  # noqa: PLC0415

        return MastodonPublisher(settings)
    if platform == "bluesky":
        from crisis_tui.publish.bluesky import BlueskyPublisher  # noqa: PLC0415

        return BlueskyPublisher(settings)
    return None


def publisher_answering(playbook: Playbook, comment: Comment) -> Publisher | None:
    """The publisher a reply to `comment` goes through, or None: it goes out by hand (no
    publisher for its platform, or the comment lacks its post's id there)."""
    publisher = publisher_for(playbook, comment.source)
    return publisher if publisher is not None and publisher.can_answer(comment) else None


def statement_publishers(playbook: Playbook) -> list[Publisher]:
    """The publishers public statements go out through (`statements = true`), in playbook order;
    none: a statement goes out by hand."""
    out = []
    for platform, settings in playbook.publish.items():
        publisher = publisher_for(playbook, platform) if settings.statements else None
        if publisher is not None:
            out.append(publisher)
    return out


async def publish(publisher: Publisher, outgoing: Outgoing) -> ev.ReplyPublished | ev.ReplyPublishFailed:
    """Post a reply (or, not addressed to a comment, a statement) once and say what happened,
    as the event that records it (a statement's has no comment_id)."""
    comment_id = outgoing.comment.id if isinstance(outgoing, Reply) else None
    try:
        posted = await (publisher.post(outgoing) if isinstance(outgoing, Reply) else publisher.post_statement(outgoing))
    except PublishFailed as exc:
        return ev.ReplyPublishFailed(draft_id=outgoing.draft_id, version=outgoing.version, platform=publisher.platform,
                                     error=str(exc), comment_id=comment_id)
    return ev.ReplyPublished(draft_id=outgoing.draft_id, version=outgoing.version, platform=publisher.platform,
                             post_id=posted.post_id, url=posted.url, comment_id=comment_id)
