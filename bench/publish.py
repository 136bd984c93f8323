"""Word-out benchmark: publishing latency, notification fan-out, the room while a target hangs.

    python bench/publish.py          # prints the figures
    python bench/publish.py --json   # one JSON object

Figures (real SQLite file, real uvicorn servers on loopback speaking the platforms' shapes:
the Mastodon-shaped server and AT-Protocol PDS of the tests, a JSON webhook receiver):
- publish_mastodon_p50_ms / _p95_ms, publish_bluesky_p50_ms / _p95_ms: sending an approved
  reply as the room's send key runs it (`approval.send`), from the call to the platform's
  answer (the last one: Bluesky signs in, looks for an earlier post, then writes), over
  `--replies` replies each; `recorded_*` runs on until `reply.published` and the draft's
  `sent` are on the record; `platform_answer_*` is the time spent waiting on the platform.
- fanout_20_p50_ms / _p95_ms: one notification to 20 Apprise json:// targets at once
  (crisis_tui.notify.deliver), until the last has answered.
- keypress_p95_ms (target <= 50): the room of a 2,000-comment incident while a situation
  report (S) waits on a target that never answers (it times out after `--slow-timeout` s):
  from posting down/up to the stream painting the new cursor row, like bench/tui.py;
  `slow_target_outcome` says the target did time out after the presses;
  `keypress_quiet_p95_ms` is the same room before S, for comparison.

Bluesky's three requests share one kept-alive connection, and on loopback each answer
after the first waits about 40 ms (the fake PDS's uvicorn writes headers and body apart;
a delayed ACK holds the body): `platform_answer_bluesky` is mostly that. Mastodon's one
request on a fresh connection answers in a few ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and bench/http.py would hide
# the standard library's `http` package from httpx.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

MASTODON_ENV = "BENCH_MASTODON_TOKEN"
BLUESKY_ENV = "BENCH_BLUESKY_PASSWORD"
REPLY = ("Hola {n}, lo sentimos mucho: tu reembolso sale hoy. Escríbenos por privado y lo revisamos "
         "en 24 horas.")


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * p + 0.5) - 1)]


def _timed_transport(spent: list[float], answered: list[float]) -> Any:
    """An httpx transport that adds up the time spent waiting on the platform's answers, and
    notes when the last one arrived."""
    import httpx

    from crisis_tui.publish import tls

    class Timed(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            t0 = time.perf_counter()
            response = await super().handle_async_request(request)
            await response.aread()
            answered.append(time.perf_counter())
            spent.append(answered[-1] - t0)
            return response

    return Timed(verify=tls.context())


async def publishing(tmp: Path, replies: int) -> dict[str, float]:
    """Approved replies sent one after another, on Mastodon and on Bluesky."""
    import msgspec

    from crisis_tui import approval
    from crisis_tui import playbook as playbook_mod
    from crisis_tui.model import NewComment
    from crisis_tui.playbook import Publisher
    from crisis_tui.publish import deliver
    from crisis_tui.server.background import BackgroundServer
    from crisis_tui.store.sqlite import SqliteStore
    from tests.atproto_loopback import APP_PASSWORD, HANDLE, FakePds
    from tests.mastodon_loopback import TOKEN, FakeMastodon

    os.environ[MASTODON_ENV], os.environ[BLUESKY_ENV] = TOKEN, APP_PASSWORD
    toots, pds = FakeMastodon(), FakePds()
    servers = [BackgroundServer(toots.app()), BackgroundServer(pds.app())]
    toots.url, pds.url = servers[0].start(), servers[1].start()
    base = playbook_mod.load(playbook_mod.shipped_path())
    book = msgspec.structs.replace(base, publish={
        "mastodon": Publisher(base_url=toots.url, token_env=MASTODON_ENV),
        "bluesky": Publisher(base_url=pds.url, token_env=BLUESKY_ENV, identifier=HANDLE)})
    waited: list[float] = []
    answered: list[float] = []
    made = deliver.publisher_for

    def timed(playbook: Any, platform: str) -> Any:
        publisher = made(playbook, platform)
        if publisher is not None:
            publisher._transport = _timed_transport(waited, answered)  # type: ignore[attr-defined]
        return publisher

    deliver.publisher_for = timed
    out: dict[str, float] = {}
    store = await SqliteStore.open(tmp / "publish.db", playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis", severity="sev1", our_fault=True)).id
        await store.heartbeat(inc, actor="Luis", role="gm")
        for platform in ("mastodon", "bluesky"):
            comments = [NewComment(
                source=platform, author=f"@user{n}", lang="es", text="Llevo tres semanas esperando el reembolso",
                external_id=(str(110_000_000_000_000_000 + n) if platform == "mastodon"
                             else f"at://did:plc:user{n}/app.bsky.feed.post/3k{n:05d}"),
                extra={} if platform == "mastodon" else {"bluesky_cid": f"bafyrei{n:020d}"}) for n in range(replies)]
            ids = (await store.ingest(inc, comments)).ids
            drafts = []
            for n, comment_id in enumerate(ids):
                await store.claim(inc, comment_id, actor="Ana")
                draft = await store.save_draft(inc, REPLY.format(n=n), actor="Ana", comment_id=comment_id)
                await approval.submit(store, inc, draft.id, actor="Ana")
                await approval.approve(store, None, inc, draft.id, actor="Luis", override_reason="bench")
                drafts.append(draft.id)
            samples, to_answer, platform_share = [], [], []
            for draft_id in drafts:
                waited.clear()
                answered.clear()
                t0 = time.perf_counter()
                await approval.send(store, inc, draft_id, actor="Ana")
                samples.append((time.perf_counter() - t0) * 1000)
                to_answer.append((answered[-1] - t0) * 1000)
                platform_share.append(sum(waited) * 1000)
            out[f"publish_{platform}_p50_ms"] = statistics.median(to_answer)
            out[f"publish_{platform}_p95_ms"] = _pct(to_answer, 0.95)
            out[f"recorded_{platform}_p50_ms"] = statistics.median(samples)
            out[f"recorded_{platform}_p95_ms"] = _pct(samples, 0.95)
            out[f"platform_answer_{platform}_p50_ms"] = statistics.median(platform_share)
        out["posts_on_mastodon"] = len(toots.posts)
        out["posts_on_bluesky"] = len(pds.records)
    finally:
        deliver.publisher_for = made
        await store.close()
        for server in servers:
            server.stop()
    return out


async def fanout(rounds: int) -> dict[str, float]:
    """One message to 20 json:// targets at once, `rounds` times."""
    from crisis_tui.notify.deliver import deliver
    from crisis_tui.playbook import NotifyTarget
    from tests.notify_receiver import Receiver

    receiver = Receiver()
    receiver.start()
    try:
        targets = []
        for n in range(20):
            os.environ[f"BENCH_TARGET_{n}"] = receiver.url(f"ok/t{n}")
            targets.append(NotifyTarget(name=f"t{n}", url_env=f"BENCH_TARGET_{n}", events=["spike"]))
        await deliver(targets, "warm-up", "warm-up")
        samples = []
        for r in range(rounds):
            t0 = time.perf_counter()
            outcome = await deliver(targets, f"[SEV1] spike {r}", f"comment spike {r}: 120/min against 30/min")
            samples.append((time.perf_counter() - t0) * 1000)
            if len(outcome.delivered) != 20:
                raise SystemExit(f"fan-out reached {len(outcome.delivered)} of 20: {outcome.failed}")
        return {"fanout_20_p50_ms": statistics.median(samples), "fanout_20_p95_ms": _pct(samples, 0.95),
                "fanout_20_max_ms": max(samples),
                "fanout_delivered": float(sum(len(v) for v in receiver.got.values()))}
    finally:
        receiver.stop()


class _Painted:
    cursor_row: tuple[int, float] = (-1, 0.0)


def _watch_paints() -> None:
    from textual.strip import Strip

    from crisis_tui.widgets.stream import CommentStream

    paint = CommentStream.render_line

    def render_line(self: CommentStream, y: int) -> Strip:
        strip = paint(self, y)
        index = self.scroll_offset.y + y
        if index == self._cursor_index and self.state.row_at(index) is not None:
            _Painted.cursor_row = (index, time.perf_counter())
        return strip

    CommentStream.render_line = render_line  # type: ignore[method-assign]


async def room_with_a_slow_target(tmp: Path, presses: int, slow_timeout: float) -> dict[str, Any]:
    """Keypresses in the room while S's situation report waits on a target that never answers."""
    import msgspec
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from textual import events

    from crisis_tui import events as ev
    from crisis_tui import playbook as playbook_mod
    from crisis_tui.app import CrisisApp
    from crisis_tui.model import NewComment
    from crisis_tui.playbook import NotifyTarget
    from crisis_tui.server.background import BackgroundServer
    from crisis_tui.store.sqlite import SqliteStore

    async def hang(request: Request) -> JSONResponse:
        """Never answers: it waits until the client gives up and hangs up."""
        await request.body()
        while not await request.is_disconnected():
            await asyncio.sleep(0.1)
        return JSONResponse({})

    slow = BackgroundServer(Starlette(routes=[Route("/hang", hang, methods=["POST"])]))
    slow.start()
    os.environ["BENCH_SLOW_URL"] = f"json://127.0.0.1:{slow.port}/hang"
    base = playbook_mod.load(playbook_mod.shipped_path())
    book = msgspec.structs.replace(base, notify=[
        NotifyTarget(name="slow", url_env="BENCH_SLOW_URL", events=["sitrep"], timeout_seconds=slow_timeout)])
    _watch_paints()
    store = await SqliteStore.open(tmp / "room.db", playbook=book)
    out: dict[str, Any] = {}
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis", severity="sev1")).id
        await store.ingest(inc, [NewComment(source="x", external_id=f"c{n}", author=f"@user_{n}",
                                            text=f"Llevo tres semanas esperando el reembolso (#{n})",
                                            priority=(n % 97) / 97) for n in range(2000)])
        app = CrisisApp(store, inc, book, me="Bench", role="cm", watch_playbook_file=False)
        async with app.run_test(size=(120, 40)) as pilot:
            while not app.room.loaded or app.room.load_progress is not None:
                await asyncio.sleep(0.01)
            await pilot.pause()
            stream = app.room.stream

            async def keys(count: int) -> list[float]:
                """Presses while the room is on top (the report's page covers it once the target timed out)."""
                samples = []
                for i in range(count):
                    if app.screen is not app.room:
                        break
                    t0 = time.perf_counter()
                    app.post_message(events.Key("down" if i % 20 < 10 else "up", None))
                    while _Painted.cursor_row[1] < t0 or _Painted.cursor_row[0] != stream._cursor_index:
                        await asyncio.sleep(0.0005)
                    samples.append((time.perf_counter() - t0) * 1000)
                    await asyncio.sleep(0.02)
                return samples

            quiet = await keys(presses // 2)
            started, wall = time.perf_counter(), time.time()
            await pilot.press("S")
            await asyncio.sleep(0.2)  # the report is built and its delivery is waiting on the slow target
            samples = await keys(presses)
            pressed_for = time.perf_counter() - started
            sitreps: list[Any] = []
            while not sitreps and time.perf_counter() - started < slow_timeout + 10:
                sitreps = [e for e in await store.events_after(inc, 0, 100_000) if isinstance(e.body, ev.SitrepIssued)]
                await asyncio.sleep(0.1)
            out["keypress_quiet_p95_ms"] = _pct(quiet, 0.95)
            out["presses_while_waiting"] = len(samples)
            out["keypress_p50_ms"] = statistics.median(samples)
            out["keypress_p95_ms"] = _pct(samples, 0.95)
            out["presses_during_s"] = pressed_for
            if sitreps:
                body = sitreps[0].body
                out["slow_target_outcome"] = "; ".join(f"{k}: {v}" for k, v in body.failed.items()) or "delivered"
                out["sitrep_recorded_after_s"] = sitreps[0].ts - wall
            else:
                out["slow_target_outcome"] = "no sitrep recorded"
    finally:
        await store.close()
        slow.stop()
    return out


async def run(replies: int, rounds: int, presses: int, slow_timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="crisis-bench-publish-") as tmp:
        figures: dict[str, Any] = {}
        figures.update(await publishing(Path(tmp), replies))
        figures.update(await fanout(rounds))
        figures.update(await room_with_a_slow_target(Path(tmp), presses, slow_timeout))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--replies", type=int, default=30, help="replies sent per platform")
    parser.add_argument("--rounds", type=int, default=20, help="fan-out rounds to 20 targets")
    parser.add_argument("--presses", type=int, default=120, help="keypresses while the slow target hangs")
    parser.add_argument("--slow-timeout", type=float, default=10.0, help="the slow target's timeout_seconds")
    args = parser.parse_args()
    f = asyncio.run(run(args.replies, args.rounds, args.presses, args.slow_timeout))
    if args.json:
        print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in f.items()}))
        return
    for platform in ("mastodon", "bluesky"):
        print(f"publish on {platform:8} (send to platform answered): p50 {f[f'publish_{platform}_p50_ms']:6.1f} ms, "
              f"p95 {f[f'publish_{platform}_p95_ms']:6.1f} ms; to recorded p50 {f[f'recorded_{platform}_p50_ms']:.1f} ms, "
              f"p95 {f[f'recorded_{platform}_p95_ms']:.1f} ms; waiting on the platform p50 "
              f"{f[f'platform_answer_{platform}_p50_ms']:.1f} ms ({f[f'posts_on_{platform}']:.0f} posts)")
    print(f"fan-out to 20 targets:            p50 {f['fanout_20_p50_ms']:6.1f} ms, p95 {f['fanout_20_p95_ms']:6.1f} ms, "
          f"max {f['fanout_20_max_ms']:.1f} ms ({f['fanout_delivered']:.0f} delivered)")
    print(f"room keypress while a target hangs: p95 {f['keypress_p95_ms']:6.1f} ms (target <= 50; p50 "
          f"{f['keypress_p50_ms']:.1f} ms; {f['keypress_quiet_p95_ms']:.1f} ms p95 before S) over "
          f"{f['presses_while_waiting']} presses in {f['presses_during_s']:.1f} s")
    print(f"the slow target: {f['slow_target_outcome']} (report recorded {f.get('sitrep_recorded_after_s', 0):.1f} s "
          "after S)")


if __name__ == "__main__":
    main()
