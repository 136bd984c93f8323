"""The pipeline between every source and the store: prepare_batch, spike alerts, warm restarts."""

from __future__ import annotations

import time
from pathlib import Path

from crisis_tui.comment_shape import parse_comment
from crisis_tui.intake.pipeline import Pipeline, prepare_batch
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.timeline_text import human_lines


def comment(i: int, text: str, **more: object) -> NewComment:
    return parse_comment({"source": "x", "id": f"p{i}", "author": f"@person_{i}", "text": text, **more})


def test_prepare_batch_fills_every_triage_field(book: Playbook) -> None:
    batch = [comment(1, "Es una vergüenza, nadie contesta y sigo sin reembolso", author_followers=9000, likes=300),
             comment(2, "Thanks, all fixed now 👍", lang="en-GB")]
    out = prepare_batch(batch, playbook=book)
    assert out is batch
    angry, happy = out
    assert (angry.lang, happy.lang) == ("es", "en")
    assert angry.negativity > 0.5 > happy.negativity
    assert angry.priority > happy.priority >= 0
    assert angry.cluster and angry.cluster != happy.cluster
    assert angry.bot_score == 0 and angry.bot_reasons == []


async def test_a_spike_goes_on_the_timeline(tmp_path: Path, book: Playbook) -> None:
    store = await SqliteStore.open(tmp_path / "room.db", playbook=book)
    try:
        incident = (await store.create_incident("Refund delays", actor="Luis")).id
        now = time.time()
        pipeline = Pipeline(book, clock=lambda: now)
        quiet = [comment(i, f"Sigo esperando {i}", posted_at=now - 900 + i * 60) for i in range(14)]
        await pipeline.ingest(store, incident, quiet)
        burst = [comment(100 + i, f"¿Y mi reembolso? {i}", posted_at=now - 50 + i * 0.5) for i in range(80)]
        result = await pipeline.ingest(store, incident, burst)
        assert result.ingested == 80
        alerts = [e for e in await store.events_after(incident, 0, 10_000) if e.kind == "alert.spike"]
        assert len(alerts) == 1
        assert alerts[0].payload["per_minute"] == 80 and alerts[0].payload["factor"] >= 3
        assert any(line.endswith(f"spike: 80/min against a baseline of {alerts[0].payload['baseline']}/min "
                                 f"(x{alerts[0].payload['factor']})") for line in human_lines(alerts))
    finally:
        await store.close()


async def test_a_restarted_intake_remembers_the_campaign(tmp_path: Path, book: Playbook) -> None:
    store = await SqliteStore.open(tmp_path / "room.db", playbook=book)
    try:
        incident = (await store.create_incident("Refund delays", actor="Luis")).id
        line = "Lumo è una TRUFFA, non fidatevi!!! Disdite subito #LumoTruffa"
        await Pipeline(book).ingest(store, incident, [comment(i, line) for i in range(3)])
        fresh = Pipeline(book)
        assert await fresh.warm(store, incident) == 3
        (fourth,) = fresh.prepare([comment(9, line + " 😡")])
        assert "same text as 3 other comments from 4 accounts" in fourth.bot_reasons
    finally:
        await store.close()


async def test_a_big_backlog_is_read_in_a_second_process_and_triaged_here(tmp_path: Path, book: Playbook) -> None:
    import json

    from crisis_tui.intake.backlog import JsonlFile
    from crisis_tui.intake.parallel import MIN_BYTES
    from crisis_tui.intake.rejects import RejectLog
    from crisis_tui.intake.runner import Runner

    path = tmp_path / "big.jsonl"
    padding = "x" * 200
    with path.open("w", encoding="utf-8") as out:
        for i in range(12_000):
            if i % 1000 == 5:
                out.write("{oops\n")
                continue
            text = "Worst brand ever!!! Boycott @Lumo now #LumoScam" if i % 10 == 0 else f"Refund stuck {i} {padding}"
            out.write(json.dumps({"source": "x", "id": f"b{i}", "author": f"@user{84000000 + i}", "text": text,
                                  "author_followers": 0, "author_following": 900}) + "\n")
    assert path.stat().st_size >= MIN_BYTES
    store = await SqliteStore.open(tmp_path / "room.db", playbook=book)
    try:
        incident = (await store.create_incident("Refund delays", actor="Luis")).id
        pipeline = Pipeline(book, count_arrivals=False)
        messages: list[str] = []
        runner = Runner(store, incident, pipeline, RejectLog(None, messages.append), report=messages.append)
        tally = await runner.run(JsonlFile(path, book=book).chunks())
        assert (tally.ingested, tally.rejected) == (11_988, 12)
        assert messages[0].startswith("big.jsonl:6: not valid JSON")
        campaign = (await store.comments(incident, limit=1))[0]
        assert campaign.text.startswith("Worst brand") and campaign.priority > 0 and campaign.lang == "en"
        cluster = pipeline.triager.clusters.get(campaign.cluster)
        assert cluster is not None and cluster.size == 1200  # one campaign across every slice
        bots = [c for c in await store.comments(incident, after_id=11_000) if c.text.startswith("Worst brand")]
        assert all("same text as" in " ".join(c.bot_reasons) for c in bots)
    finally:
        await store.close()


def test_a_retried_delivery_is_judged_once_and_counted_once(book: Playbook) -> None:
    """A platform retries a webhook it thinks failed: the same comments again. The store refuses them
    as duplicates, but triage saw them first; they must not count twice for spikes nor make a
    comment a copy of itself."""
    now = time.time()
    pipeline = Pipeline(book, clock=lambda: now)
    first = [comment(i, "Es una vergüenza, nadie contesta", posted_at=now - 5) for i in range(3)]
    judged = pipeline.assess(first)
    counted = sum(pipeline.spikes._per_second.values())
    again = [comment(i, "Es una vergüenza, nadie contesta", posted_at=now - 5) for i in range(3)]
    rejudged = pipeline.assess(again)
    assert sum(pipeline.spikes._per_second.values()) == counted == 3
    assert [a.cluster_size for a in rejudged] == [a.cluster_size for a in judged] == [1, 2, 3]
    assert [(c.priority, c.cluster, c.bot_score) for c in again] == [(c.priority, c.cluster, c.bot_score) for c in first]
    fresh = pipeline.assess([comment(7, "Es una vergüenza, nadie contesta", posted_at=now - 5)])
    assert fresh[0].cluster_size == 4 and sum(pipeline.spikes._per_second.values()) == 4
