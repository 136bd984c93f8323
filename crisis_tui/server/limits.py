"""Request bodies read with a size cap, so an oversized one costs at most the cap."""

from __future__ import annotations

from starlette.requests import Request

from crisis_tui.errors import PayloadTooLarge


def _too_large(limit: int, seen: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body is {seen} bytes, the limit is {limit:,} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or PayloadTooLarge as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, f"{int(declared):,}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, f"over {limit:,}")
        chunks.append(chunk)
    return b"".join(chunks)
