"""Which publisher a comment's reply goes through, and the record of one attempt."""

from __future__ import annotations

from crisis_tui import events as ev
from crisis_tui.errors import PublishFailed
from crisis_tui.model import Comment
from crisis_tui.playbook import Playbook
from crisis_tui.publish.bluesky import BlueskyPublisher
from crisis_tui.publish.mastodon import MastodonPublisher
from crisis_tui.publish.reply import Publisher, Reply


def publisher_for(playbook: Playbook, platform: str) -> Publisher | None:
    """The playbook's publisher for `platform`, or None."""
    settings = playbook.publish.get(platform)
    if settings is None:
        return None
    if platform == "mastodon":
        return MastodonPublisher(settings)
    if platform == "bluesky":
        return BlueskyPublisher(settings)
    return None


def publisher_answering(playbook: Playbook, comment: Comment) -> Publisher | None:
    """The publisher a reply to `comment` goes through, or None: it goes out by hand (no
    publisher for its platform, or the comment lacks its post's id there)."""
    publisher = publisher_for(playbook, comment.source)
    return publisher if publisher is not None and publisher.can_answer(comment) else None


async def publish(publisher: Publisher, reply: Reply) -> ev.ReplyPublished | ev.ReplyPublishFailed:
    """Post `reply` once and say what happened, as the event that records it."""
    try:
        posted = await publisher.post(reply)
    except PublishFailed as exc:
        return ev.ReplyPublishFailed(draft_id=reply.draft_id, version=reply.version, platform=publisher.platform,
                                     error=str(exc), comment_id=reply.comment.id)
    return ev.ReplyPublished(draft_id=reply.draft_id, version=reply.version, platform=publisher.platform,
                             post_id=posted.post_id, url=posted.url, comment_id=reply.comment.id)
