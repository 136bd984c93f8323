"""One TLS context for every publish, built once per process.

httpx builds a new context for each client it opens, reading the whole CA bundle
(`load_verify_locations`): 95 ms a send on this machine (bench/publish.py, cProfile),
on the event loop, so a room froze for that long at every send. The context is
shared instead; only the first publish of a process pays for it.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def context() -> ssl.SSLContext:
    """The process's TLS context for the platforms (certifi's CA bundle, as httpx's default)."""
    return httpx.create_ssl_context()
