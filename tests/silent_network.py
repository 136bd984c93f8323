"""A loopback TCP relay that can go silent: a network that drops without a word.

A stopped server answers with a reset at once; a Wi-Fi that vanishes or a laptop
lid that closes sends nothing at all, and the client only learns from silence.
`freeze()` stops relaying in both directions while every socket stays open;
`thaw()` relays again. Real sockets on 127.0.0.1, no mock.
"""

from __future__ import annotations

import asyncio
import contextlib


class SilentNetwork:
    """Relays 127.0.0.1:`port` to `target_port` until frozen."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._open = asyncio.Event()
        self._open.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def freeze(self) -> None:
        self._open.clear()

    def thaw(self) -> None:
        self._open.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        assert me is not None
        self._tasks.add(me)
        await self._open.wait()  # a frozen network accepts (the kernel does) but carries nothing
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.close()
            return
        pumps = [asyncio.create_task(self._pump(client_r, server_w)), asyncio.create_task(self._pump(server_r, client_w))]
        self._tasks.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
                self._tasks.discard(pump)
            for writer in (client_w, server_w):
                writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            await self._open.wait()
            writer.write(data)
            await writer.drain()
