"""Secrets that travel in a URL's query, scrubbed from everything that shows or logs a URL.

Some callers cannot send a header: Meta's webhook dashboard takes only a
callback URL (`?access_token=TOKEN`), and YouTube's Data API wants its key as
`?key=KEY`. A URL printed in an error line or written to the server's access
log would hand the secret to whoever reads the terminal, the log file or the
log shipper, so every such URL goes through `scrubbed` first. It works on any
text (an access-log line, an httpx error) and keeps the rest of it as it was.
"""

from __future__ import annotations

import re

#: Query parameters that carry a credential (compared case-insensitively).
SECRET_PARAMS = ("access_token", "key", "api_key", "apikey", "token", "hub.verify_token", "client_secret")
SHOWN = "REDACTED"

_PATTERN = re.compile(
    r"([?&](?:" + "|".join(re.escape(name) for name in SECRET_PARAMS) + r")=)[^&#\s\"']*",
    re.IGNORECASE,
)


def scrubbed(text: str) -> str:
    """`text` with the value of every secret query parameter replaced by REDACTED."""
    return _PATTERN.sub(lambda match: match.group(1) + SHOWN, text)
