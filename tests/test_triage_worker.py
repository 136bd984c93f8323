"""The webhook's triage in its own process (crisis_tui.server.triage_worker): the same scores
the server would have given, the same spike alert, and nothing lost when the worker dies."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from crisis_tui.errors import InvalidInput
from crisis_tui.playbook import Playbook
from crisis_tui.server.triage_worker import TriageWorker
from crisis_tui.server.webhook import WebhookTriage
from tests.test_server_platform_webhook import fb_comment, page_feed
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

DATA = Path(__file__).parent / "data"


def _labelled() -> list[dict[str, object]]:
    lines = (DATA / "triage_labelled.jsonl").read_text(encoding="utf-8").splitlines()
    comments = [json.loads(line)["comment"] for line in lines]
    # A copy-paste campaign across batches: clusters and bursts are remembered between them.
    campaign = [{"source": "x", "id": f"bot-{i}", "author": f"@user{48213 + i}",
                 "text": f"BOYCOTT this brand now, they steal your money!!! #{i}",
                 "author_followers": 0, "author_following": 900} for i in range(40)]
    return comments + campaign


async def test_the_worker_reads_and_scores_every_body_as_the_server_itself_would(book: Playbook) -> None:
    here, worker = WebhookTriage(book), TriageWorker(book)
    try:
        comments = _labelled()
        for start in range(0, len(comments), 25):
            body = json.dumps(comments[start:start + 25]).encode()
            expected = await here.read("inc", body, None, 1000)
            got = await worker.read("inc", body, None, 1000)
            assert got == expected, "the same comments, scores and spike alerts"
        assert any(c.bot_reasons for c in got[0]), "the campaign's later batches are scored as copy-paste"
        assert worker._here is None, "every batch went through the worker"
    finally:
        await worker.close()


async def test_a_body_the_worker_refuses_gets_the_servers_own_refusal(book: Playbook) -> None:
    worker = TriageWorker(book)
    try:
        bad = json.dumps([{"source": "x", "id": "1", "author": "@a", "text": "ok"},
                          {"source": "x", "id": "2", "author": "@b"}]).encode()
        with pytest.raises(InvalidInput) as refused:
            await worker.read("inc", bad, None, 1000)
        assert (refused.value.field, refused.value.problem) == ("comments[1].text", "is required")
        with pytest.raises(InvalidInput, match="at most 1 comments"):
            await worker.read("inc", bad, None, 1)
        got, _ = await worker.read("inc", json.dumps({"source": "x", "id": "3", "author": "@c",
                                                      "text": "still here"}).encode(), None, 1000)
        assert [c.external_id for c in got] == ["3"] and worker._here is None, "the worker goes on"
    finally:
        await worker.close()


async def test_the_worker_reads_a_platform_body_with_its_preset_as_the_server_would(book: Playbook) -> None:
    here, worker = WebhookTriage(book), TriageWorker(book)
    reaction = {"from": {"id": "9", "name": "Pat"}, "item": "reaction", "reaction_type": "angry", "verb": "add",
                "post_id": "1010_2020", "created_time": 1773151330}
    try:
        body = json.dumps(page_feed(fb_comment("1010_2021", "Tres semanas sin reembolso, una vergüenza"), reaction,
                                    fb_comment("1010_2022", "Same here", parent="1010_2021"))).encode()
        expected = await here.read("inc", body, "facebook-webhook", 1000)
        got = await worker.read("inc", body, "facebook-webhook", 1000)
        assert got == expected and [c.external_id for c in got[0]] == ["1010_2021", "1010_2022"]
        skipped = json.dumps(page_feed(reaction)).encode()
        assert await worker.read("inc", skipped, "facebook-webhook", 1000) == ([], None)
        with pytest.raises(InvalidInput, match="a batch holds at most 1 comments"):
            await worker.read("inc", body, "facebook-webhook", 1)
        assert worker._here is None
    finally:
        await worker.close()


async def test_a_worker_that_dies_loses_no_comment_and_the_server_triages_the_rest(serve: ServeFactory) -> None:  # noqa: F811
    served = await serve(triage_worker=True)
    lead = await served.store("Lead", "lead")
    inc = (await lead.create_incident("Refunds", actor="Lead")).id
    hook = served.raw(await served.token("hook", "operator"))
    angry = "Llevo tres semanas esperando el reembolso, es una vergüenza, nadie contesta"

    def batch(start: int) -> list[dict[str, object]]:
        return [{"source": "x", "id": f"c{start + i}", "author": f"@a{start + i}", "text": angry} for i in range(10)]

    assert (await hook.post(f"/incidents/{inc}/comments", json=batch(0))).status_code == 200
    worker = served.server.app.state.crisis.triage
    assert isinstance(worker, TriageWorker) and worker._proc is not None
    os.kill(worker._proc.pid, signal.SIGKILL)  # and the next batch goes out at once, maybe into the dead pipe
    answer = await hook.post(f"/incidents/{inc}/comments", json=batch(10))
    assert answer.status_code == 200 and answer.json()["ingested"] == 10
    stored = await lead.comments(inc)
    assert len(stored) == 20
    assert all(c.lang == "es" and c.negativity > 0.5 and c.priority > 0 for c in stored), "all 20 are triaged"
    assert worker._here is not None


async def test_a_spike_through_the_worker_goes_on_the_timeline(serve: ServeFactory) -> None:  # noqa: F811
    served = await serve(triage_worker=True)
    lead = await served.store("Lead", "lead")
    inc = (await lead.create_incident("Refunds", actor="Lead")).id
    hook = served.raw(await served.token("hook", "operator"))
    now = time.time()

    def native(i: int, posted_at: float) -> dict[str, object]:
        return {"source": "x", "id": f"s{i}", "author": f"@p{i}", "text": f"refund {i}", "posted_at": posted_at}

    quiet = [native(i, now - 60 * (2 + i % 14)) for i in range(28)]
    burst = [native(100 + i, now - 5) for i in range(90)]
    assert (await hook.post(f"/incidents/{inc}/comments", json=quiet)).status_code == 200
    assert "alert.spike" not in [e.kind for e in await lead.events_after(inc, 0, 1000)]
    assert (await hook.post(f"/incidents/{inc}/comments", json=burst)).status_code == 200
    alerts = [e for e in await lead.events_after(inc, 0, 1000) if e.kind == "alert.spike"]
    assert len(alerts) == 1 and alerts[0].payload["per_minute"] >= 90
    worker = served.server.app.state.crisis.triage
    assert isinstance(worker, TriageWorker) and worker._here is None, "the worker, not the server, saw the spike"
