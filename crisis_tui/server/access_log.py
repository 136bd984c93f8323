"""The server's access log, without the secrets some callers must put in the URL.

Meta's webhook dashboard takes only a callback URL, so its posts carry the
token as `?access_token=TOKEN` (crisis_tui.server.platform_webhook), and
uvicorn's access log writes every request's path with its query. A token in a
log file, a terminal's scrollback or a log shipper is a token anyone there can
post with, so a filter on the `uvicorn.access` logger passes each line's
values through crisis_tui.secret_query before any handler formats them.
"""

from __future__ import annotations

import logging

from crisis_tui.secret_query import scrubbed

ACCESS_LOGGER = "uvicorn.access"


class ScrubSecrets(logging.Filter):
    """Replaces the value of every secret query parameter in a record's text and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrubbed(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrubbed(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: scrubbed(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install() -> None:
    """Put the filter on uvicorn's access logger once (uvicorn's logging setup keeps a logger's filters)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, ScrubSecrets) for f in logger.filters):
        logger.addFilter(ScrubSecrets())
