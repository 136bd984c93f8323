"""Intake benchmark: backlog throughput and follow latency, end to end into a real SQLite file.

    python bench/intake.py                 # figures for people
    python bench/intake.py --json          # one JSON object: backlog_lines_per_s, follow_p95_ms,
                                           # preset_youtube_lines_per_s, preset_vs_native
    python bench/intake.py --languages     # also compare language detectors (see crisis_tui/language.py)

Backlog: a generated export of realistic comments (es/it/en, a third without a
lang field, copy-paste campaigns, 1% malformed lines) is read, parsed,
normalised, triaged and stored by the same code `crisis-tui ingest` runs.
Follow: a writer appends lines to a followed file at a steady rate; the
latency of each line is from its write to its comment.ingested event being
committed (seen by a subscriber of the store). Preset: as many comments as the
backlog has lines, in YouTube commentThreads pages (one a JSONL line, replies
nested, HTML in textDisplay), recognised and read through the youtube preset,
against the backlog's native lines of the same run. Targets: >= 10,000
lines/s, p95 <= 200 ms, preset >= 70% of native.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and bench/http.py would hide
# the standard library's `http` package from httpx (the store imports it to publish).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from crisis_tui import language  # noqa: E402
from crisis_tui import playbook as playbook_mod  # noqa: E402
from crisis_tui.intake import presets  # noqa: E402
from crisis_tui.intake.backlog import JsonlFile  # noqa: E402
from crisis_tui.intake.follow import FollowedFile  # noqa: E402
from crisis_tui.intake.pipeline import Pipeline  # noqa: E402
from crisis_tui.intake.rejects import RejectLog  # noqa: E402
from crisis_tui.intake.runner import Runner  # noqa: E402
from crisis_tui.intake.state import StateFile  # noqa: E402
from crisis_tui.store.sqlite import SqliteStore  # noqa: E402

OPENINGS = {
    "es": ["Llevo tres semanas esperando el reembolso", "¿Alguien sabe cómo reclamar?", "Me habéis cobrado dos veces",
           "Gracias por resolverlo tan rápido", "La app dice error 504 desde el martes", "Nadie contesta en el chat",
           "Genial, otra vez sin línea", "Es una vergüenza cómo tratáis a los clientes"],
    "it": ["Rimborso bloccato da venti giorni", "Qualcuno sa se bisogna rifare l'ordine?", "Mi avete addebitato due volte",
           "Grazie, tutto risolto in pochi minuti", "L'app non funziona dall'aggiornamento", "Nessuno risponde in chat",
           "Complimenti, di nuovo senza linea", "Vergognoso il servizio clienti"],
    "en": ["Three weeks waiting for my refund", "Does anyone know how to claim?", "You charged me twice",
           "Thanks for sorting it out so quickly", "The app shows error 504 since Tuesday", "Nobody answers the chat",
           "Great, no signal again", "Disgraceful customer service"],
}
TAILS = {
    "es": ["y nadie me da una solución", "desde la actualización", "quiero una respuesta hoy", "es la tercera vez",
           "con el número de pedido", "en la tienda de Madrid", "por favor", "esto no puede seguir así"],
    "it": ["e nessuno mi dà una soluzione", "dall'aggiornamento", "voglio una risposta oggi", "è la terza volta",
           "con il numero d'ordine", "nel negozio di Milano", "per favore", "così non si può andare avanti"],
    "en": ["and nobody gives me a solution", "since the update", "I want an answer today", "third time this month",
           "with my order number", "at the Leeds store", "please", "this cannot go on"],
}
CAMPAIGNS = ["Worst brand ever!!! Boycott @LumoTelecom now #LumoScam",
             "Lumo son unos ESTAFADORES, no contratéis nunca con ellos #LumoEstafa"]
MALFORMED = ['{"source": "x", "id": "cut", "author": "@a", "text": "half a li', '{"source": "x", "id": "q", "author": "@a"}',
             "not json at all", '{"source": "x", "id": "n", "author": "@a", "text": "hi", "likes": -3}']


def comment_line(i: int, rng: random.Random, now: float) -> str:
    if i % 100 == 7:
        return MALFORMED[i % len(MALFORMED)]
    if i % 25 == 3:
        text = rng.choice(CAMPAIGNS) + rng.choice(["", " !!!", " 😡", " #refund"])
        author = f"@user{rng.randint(10_000_000, 99_999_999)}"
        comment = {"source": "x", "id": f"b{i}", "author": author, "text": text, "author_followers": rng.randint(0, 3),
                   "author_following": rng.randint(300, 2000), "author_created_at": now - rng.randint(1, 6) * 86400}
    else:
        lang = rng.choice(("es", "es", "it", "en", "en"))
        text = f"{rng.choice(OPENINGS[lang])} {rng.choice(TAILS[lang])} {rng.choice(TAILS[lang])} #{i}"
        comment = {"source": rng.choice(["x", "instagram", "facebook", "tiktok", "reviews"]), "id": f"c{i}",
                   "author": f"@{rng.choice(['marta', 'luca', 'jen', 'pablo', 'giulia', 'sam'])}_{rng.randint(1, 9999)}",
                   "text": text, "author_followers": rng.randint(0, 50_000), "author_following": rng.randint(10, 2000),
                   "author_created_at": "2017-04-01T00:00:00Z", "likes": rng.randint(0, 900), "shares": rng.randint(0, 90),
                   "replies": rng.randint(0, 40), "url": f"https://social.example/p/{i}"}
        if i % 3:
            comment["lang"] = lang
    comment["posted_at"] = now - rng.uniform(0, 86_400)
    return json.dumps(comment, ensure_ascii=False)


async def bench_backlog(lines: int, folder: Path) -> dict[str, float]:
    rng = random.Random(7)
    now = time.time()
    path = folder / "backlog.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            out.write(comment_line(i, rng, now) + "\n")
    book = playbook_mod.load(playbook_mod.shipped_path())
    store = await SqliteStore.open(folder / "backlog.db", playbook=book)
    incident = (await store.create_incident("Bench backlog", actor="bench")).id
    messages: list[str] = []
    pipeline = Pipeline(book, count_arrivals=False)
    language.warm(pipeline.guesser.languages)
    runner = Runner(store, incident, pipeline, RejectLog(folder / "rejected.jsonl", messages.append), report=messages.append)
    started = time.perf_counter()
    cpu = time.process_time()
    tally = await runner.run(JsonlFile(path, book=book).chunks())
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    await store.close()
    return {"lines": lines, "seconds": elapsed, "lines_per_s": lines / elapsed, "cpu_us_per_line": cpu / lines * 1e6,
            "ingested": tally.ingested, "rejected": tally.rejected}


async def bench_follow(count: int, rate: float, folder: Path) -> dict[str, float]:
    book = playbook_mod.load(playbook_mod.shipped_path())
    store = await SqliteStore.open(folder / "follow.db", playbook=book)
    incident = (await store.create_incident("Bench follow", actor="bench")).id
    path = folder / "stream.jsonl"
    path.touch()
    stop = asyncio.Event()
    messages: list[str] = []
    pipeline = Pipeline(book)
    language.warm(pipeline.guesser.languages)
    source = FollowedFile(path, StateFile(folder / "follow-state.json"), stop, report=messages.append)
    runner = Runner(store, incident, pipeline, RejectLog(None, messages.append), report=messages.append, stop=stop)
    task = asyncio.create_task(runner.run(source.chunks()))
    written: dict[str, float] = {}
    latencies: list[float] = []
    rng = random.Random(11)
    now = time.time()

    async def watch() -> None:
        async for event in store.subscribe(incident):
            if event.kind != "comment.ingested":
                continue
            seen = time.perf_counter()
            external = event.payload["comment"]["external_id"]
            if external in written:
                latencies.append((seen - written[external]) * 1000)
            if len(latencies) >= count:
                return

    watcher = asyncio.create_task(watch())
    with path.open("a", encoding="utf-8") as out:
        for i in range(count):
            line = json.loads(comment_line(i * 100 + 1, rng, now))
            line["id"] = f"f{i}"
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            out.flush()
            written[f"f{i}"] = time.perf_counter()
            await asyncio.sleep(1 / rate)
    await asyncio.wait_for(watcher, 30)
    stop.set()
    await task
    await store.close()
    latencies.sort()
    return {"lines": count, "p50_ms": statistics.median(latencies), "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
            "max_ms": latencies[-1]}


def compare_languages() -> list[tuple[str, float, float, int]]:
    """(detector, accuracy, µs per text, texts) on the labelled comments, the seed articles and,
    when this machine has them, the es/it translations of system messages (text nobody tuned for)."""
    samples: list[tuple[str, str]] = []
    for name in ("triage_labelled.jsonl", "triage_heldout.jsonl"):
        for row in (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(row)
            samples.append((record["lang"], record["comment"]["text"]))
    seeds = ROOT.parent / "shared" / "seeds"
    for lang, name in (("it", "crisis-management-it.txt"), ("es", "crisis-online-es.txt")):
        if (seeds / name).exists():
            samples += [(lang, s.strip()) for s in (seeds / name).read_text(encoding="utf-8").splitlines() if len(s.strip()) > 15]
    samples += catalog_samples()
    detectors = {"word lists only": language.LanguageGuesser(fallback=False).detect,
                 "word lists + py3langid (shipped)": language.LanguageGuesser().detect}
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    model = LanguageIdentifier.from_model_file(MODEL_FILE)
    model.set_languages(["en", "es", "it"])

    def model_alone(text: str, words: list[str] | None = None) -> str:
        return str(model.classify(text)[0])

    detectors["py3langid alone"] = model_alone
    out = []
    for name, detect in detectors.items():
        detect("warm up")
        started = time.perf_counter()
        right = sum(detect(text) == lang for lang, text in samples)
        out.append((name, right / len(samples), (time.perf_counter() - started) / len(samples) * 1e6, len(samples)))
    return out


def catalog_samples(limit: int = 600) -> list[tuple[str, str]]:
    """English messages and their es/it translations from the system's gettext catalogs."""
    import gettext
    import re

    rows = []
    es_dir, it_dir = Path("/usr/share/locale/es/LC_MESSAGES"), Path("/usr/share/locale/it/LC_MESSAGES")
    if not es_dir.is_dir() or not it_dir.is_dir():
        return []
    clean = re.compile(r"%[-+ #0-9.]*[a-zA-Z]|\{[^}]*\}|\$\w+|<[^>]+>|_")
    for es_file in sorted(es_dir.glob("*.mo")):
        it_file = it_dir / es_file.name
        if not it_file.exists() or es_file.name.startswith("iso_"):
            continue
        try:
            es = gettext.GNUTranslations(es_file.open("rb"))._catalog  # type: ignore[attr-defined]
            it = gettext.GNUTranslations(it_file.open("rb"))._catalog  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - a broken catalog is skipped
            continue
        for key in sorted(set(es) & set(it), key=str):
            if not isinstance(key, str) or not key:
                continue
            english = " ".join(clean.sub(" ", key).split())
            if 25 <= len(english) <= 200 and len(english.split()) >= 4:
                rows.append((english, " ".join(clean.sub(" ", es[key]).split()), " ".join(clean.sub(" ", it[key]).split())))
    random.Random(1).shuffle(rows)
    return [pair for en, es, it in rows[:limit] for pair in (("en", en), ("es", es), ("it", it))]


def youtube_pages(comments: int, rng: random.Random) -> list[str]:
    """commentThreads.list pages (one a line), 50 threads a page, 0-3 replies a thread, `comments` in all."""
    pages: list[str] = []
    made = 0
    thread = 0
    while made < comments:
        items: list[dict[str, object]] = []
        while len(items) < 50 and made < comments:
            thread += 1
            replies = min(rng.choice((0, 0, 1, 2, 3)), comments - made - 1)

            def snippet(cid: str, parent: str | None) -> dict[str, object]:
                lang = rng.choice(("es", "it", "en"))
                text = f"{rng.choice(OPENINGS[lang])}<br>{rng.choice(TAILS[lang])} &amp; {rng.choice(TAILS[lang])} #{cid}"
                body: dict[str, object] = {
                    "kind": "youtube#comment", "etag": "e", "id": cid,
                    "snippet": {"videoId": "vid1", "textDisplay": text, "textOriginal": text,
                                "authorDisplayName": f"@{rng.choice(['marta', 'luca', 'jen', 'sam'])}{rng.randint(1, 9999)}",
                                "authorChannelId": {"value": f"UC{rng.randint(1, 10**9)}"}, "canRate": True,
                                "viewerRating": "none", "likeCount": rng.randint(0, 900),
                                "publishedAt": f"2026-03-10T14:{rng.randint(0, 59):02d}:00Z",
                                "updatedAt": "2026-03-10T15:00:00Z"}}
                if parent is not None:
                    body["snippet"]["parentId"] = parent  # type: ignore[index]
                return body

            top = f"Ugz{thread}"
            item: dict[str, object] = {"kind": "youtube#commentThread", "etag": "e", "id": top,
                                       "snippet": {"videoId": "vid1", "topLevelComment": snippet(top, None),
                                                   "canReply": True, "totalReplyCount": replies, "isPublic": True}}
            if replies:
                item["replies"] = {"comments": [snippet(f"{top}.r{r}", top) for r in range(replies)]}
            items.append(item)
            made += 1 + replies
        pages.append(json.dumps({"kind": "youtube#commentThreadListResponse", "etag": "p",
                                 "pageInfo": {"totalResults": len(items), "resultsPerPage": 50}, "items": items},
                                ensure_ascii=False))
    return pages


async def bench_preset(comments: int, folder: Path) -> dict[str, float]:
    """The same road as `ingest room.db threads.jsonl` recognising the youtube preset."""
    path = folder / "youtube.jsonl"
    path.write_text("\n".join(youtube_pages(comments, random.Random(11))) + "\n", encoding="utf-8")
    book = playbook_mod.load(playbook_mod.shipped_path())
    store = await SqliteStore.open(folder / "preset.db", playbook=book)
    incident = (await store.create_incident("Bench preset", actor="bench")).id
    messages: list[str] = []
    pipeline = Pipeline(book, count_arrivals=False)
    language.warm(pipeline.guesser.languages)
    runner = Runner(store, incident, pipeline, RejectLog(folder / "preset-rejected.jsonl", messages.append),
                    report=messages.append)
    started = time.perf_counter()
    mapping = presets.load(presets.recognise(presets.peek(path, 1 << 26)) or "youtube")
    tally = await runner.run(JsonlFile(path, book=book, mapping=mapping).chunks())
    elapsed = time.perf_counter() - started
    await store.close()
    return {"items": comments, "seconds": elapsed, "items_per_s": comments / elapsed, "ingested": tally.ingested,
            "replies": tally.replies, "rejected": tally.rejected}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--lines", type=int, default=50_000, help="backlog lines (default 50,000)")
    parser.add_argument("--follow-lines", type=int, default=300, help="lines written while following (default 300)")
    parser.add_argument("--rate", type=float, default=50.0, help="lines a second written while following (default 50)")
    parser.add_argument("--languages", action="store_true", help="also compare language detectors")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crisis-bench-intake-") as tmp:
        backlog = await bench_backlog(args.lines, Path(tmp))
        preset = await bench_preset(args.lines, Path(tmp))
        follow = await bench_follow(args.follow_lines, args.rate, Path(tmp))
    ratio = preset["items_per_s"] / backlog["lines_per_s"]
    if args.json:
        print(json.dumps({"backlog_lines_per_s": round(backlog["lines_per_s"]), "follow_p95_ms": round(follow["p95_ms"], 1),
                          "preset_youtube_lines_per_s": round(preset["items_per_s"]),
                          "preset_vs_native": round(ratio, 3)}))
        return
    print(f"backlog: {backlog['lines']:,} lines in {backlog['seconds']:.2f} s = {backlog['lines_per_s']:,.0f} lines/s "
          f"(target >= 10,000; {backlog['cpu_us_per_line']:.0f} µs CPU a line over all threads; "
          f"{backlog['ingested']:,} ingested, {backlog['rejected']:,} rejected)")
    print(f"preset: {preset['items']:,} YouTube comments ({preset['replies']:,} replies) in {preset['seconds']:.2f} s = "
          f"{preset['items_per_s']:,.0f} lines/s, {ratio:.0%} of the native shape in this run (target >= 70%; "
          f"{preset['ingested']:,} ingested, {preset['rejected']:,} rejected)")
    print(f"follow: {follow['lines']} lines at {args.rate:g}/s: write -> stored p50 {follow['p50_ms']:.1f} ms, "
          f"p95 {follow['p95_ms']:.1f} ms (target <= 200), max {follow['max_ms']:.1f} ms")
    if args.languages:
        for name, accuracy, micros, texts in compare_languages():
            print(f"language: {name:34} {accuracy:6.1%} of {texts:,} texts, {micros:5.1f} µs a text")


if __name__ == "__main__":
    asyncio.run(main())
