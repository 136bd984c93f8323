"""One message to many Apprise targets at once; each outcome said, none blocking another.

Apprise is synchronous, so each target is sent from its own thread and waited for at
most its `timeout_seconds`; a target that hangs is reported as timed out and its
thread is left to finish on its own (daemon work of Apprise's own timeouts).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence

import apprise
import msgspec

from crisis_tui.playbook import NotifyTarget
from crisis_tui.safe_text import one_line


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """Where one message went: the targets reached, and for each other one why not."""

    delivered: list[str] = []
    failed: dict[str, str] = {}


def _send(url: str, title: str, body: str, timeout: float) -> str | None:
    """None when Apprise delivered; otherwise why not, in a few words."""
    sender = apprise.Apprise()
    if not sender.add(url):
        return "Apprise does not understand this URL"
    for server in sender:
        server.socket_connect_timeout = timeout
        server.socket_read_timeout = timeout
    started = time.monotonic()
    if sender.notify(title=title, body=body):
        return None
    # Apprise says only False: a failure that took the whole timeout is a target that did not answer.
    if time.monotonic() - started >= timeout * 0.95:
        return f"no answer within {timeout:g} s"
    return "the service refused it or could not be reached"


async def _one(target: NotifyTarget, title: str, body: str) -> tuple[str, str | None]:
    url = os.environ.get(target.url_env, "").strip()
    if not url:
        return target.name, f"${target.url_env} is not set (it holds the target's Apprise URL)"
    try:
        why = await asyncio.wait_for(asyncio.to_thread(_send, url, title, body, target.timeout_seconds),
                                     target.timeout_seconds + 1.0)
    except TimeoutError:
        why = f"no answer within {target.timeout_seconds:g} s"
    except Exception as exc:  # noqa: BLE001 - any fault of one target is that target's outcome, said
        why = one_line(f"{type(exc).__name__}: {exc}", 200)
    return target.name, why


async def deliver(targets: Sequence[NotifyTarget], title: str, body: str) -> Outcome:
    """Send to every target at once; the outcome names each one reached or why it was not."""
    results = await asyncio.gather(*(_one(t, title, body) for t in targets))
    return Outcome(delivered=[name for name, why in results if why is None],
                   failed={name: why for name, why in results if why is not None})
