"""A scripted crisis for `crisis-tui demo`: what a newcomer watches come alive.

A refund complaint goes viral in Spanish, Italian and English; the stream
spikes; a bot farm pastes the same line; the committee joins, claims the worst
comment, drafts a calm personal answer, and the general manager approves a
holding statement. The script only calls the store, so the headless demo, the
room's demo and the tests all play the very same crisis.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from crisis_tui.comment_shape import parse_comment
from crisis_tui.events import SpikeAlert, encode
from crisis_tui.model import NewComment
from crisis_tui.store.protocol import IncidentStore

TITLE = "Refund delays after the app update"
BRAND = "Lumo Telecom"

VIRAL: list[dict[str, Any]] = [
    {"source": "x", "id": "x-1001", "author": "@marta_viaja", "lang": "es", "author_followers": 15200,
     "author_following": 410, "author_created_at": "2014-03-02T10:00:00Z", "likes": 2300, "shares": 870,
     "text": "Llevo TRES semanas esperando el reembolso de @LumoTelecom y nadie contesta. Vergüenza de servicio, "
             "os lo cuento para que no os pase."},
    {"source": "instagram", "id": "ig-2001", "author": "giorgia.rossi", "lang": "it", "author_followers": 3400,
     "author_following": 600, "author_created_at": "2016-07-11T09:00:00Z", "likes": 410, "shares": 35,
     "text": "Ordine annullato e rimborso sparito da 20 giorni. Il servizio clienti non risponde, è una vergogna."},
    {"source": "x", "id": "x-1002", "author": "@dan_reviews", "lang": "en", "author_followers": 48000,
     "author_following": 900, "author_created_at": "2011-01-20T12:00:00Z", "likes": 5100, "shares": 1900,
     "text": "Since the @LumoTelecom app update my refund is 'processing' forever. Support chat closes on me. "
             "Anyone else? #LumoRefund"},
    {"source": "facebook", "id": "fb-3001", "author": "Carmen Ortiz", "lang": "es", "author_followers": 220,
     "author_following": 310, "author_created_at": "2012-05-05T08:00:00Z", "likes": 12,
     "text": "¿Alguien sabe cómo reclamar el reembolso? La app dice error 504 desde el martes."},
    {"source": "reviews", "id": "rv-4001", "author": "Paolo B.", "lang": "it", "likes": 3,
     "text": "Da quando hanno aggiornato l'app non riesco a vedere lo stato del rimborso. Qualcuno ha un numero?"},
    {"source": "x", "id": "x-1003", "author": "@happy_customer", "lang": "en", "author_followers": 150,
     "author_following": 200, "author_created_at": "2019-09-09T09:00:00Z", "likes": 4,
     "text": "Got my refund today after calling care, thanks Lumo. Took a while though."},
]

SPIKE_LINES: dict[str, list[str]] = {
    "es": ["¿Y mi reembolso?", "Tres semanas igual que tú, Marta", "Nadie responde en el chat",
           "Me pasa lo mismo desde la actualización", "Exijo una respuesta ya"],
    "it": ["Anche a me, rimborso bloccato", "Qualcuno vi risponde?", "Stessa cosa dal 3 del mese",
           "Servizio clienti irraggiungibile"],
    "en": ["Same here, refund stuck", "Is anyone at Lumo reading this?", "Three weeks and counting",
           "App update broke refunds for me too", "Support line just hangs up"],
}
BOT_TEXT = "Worst brand ever!!! Boycott @LumoTelecom now #LumoScam"


def viral_comments() -> list[NewComment]:
    return [parse_comment(raw) for raw in VIRAL]


def spike_comments(count: int, seed: int = 7) -> list[NewComment]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        lang = rng.choice(["es", "es", "it", "en", "en"])
        out.append(parse_comment({
            "source": rng.choice(["x", "instagram", "facebook", "tiktok"]), "id": f"spike-{seed}-{i}",
            "author": f"@{rng.choice(['lu', 'sara', 'marco', 'jen', 'pablo', 'elena'])}_{rng.randint(10, 999)}",
            "lang": lang, "text": rng.choice(SPIKE_LINES[lang]), "author_followers": rng.randint(20, 4000),
            "author_following": rng.randint(50, 900), "author_created_at": "2017-04-01T00:00:00Z",
            "likes": rng.randint(0, 60), "shares": rng.randint(0, 10),
        }))
    return out


def bot_comments(count: int) -> list[NewComment]:
    now = time.time()
    return [parse_comment({
        "source": "x", "id": f"bot-{i}", "author": f"@user{84721 + i * 37}", "lang": "en", "text": BOT_TEXT,
        "author_followers": i % 3, "author_following": 900 + i, "author_created_at": now - 86400 * (1 + i % 4),
    }) for i in range(count)]


@dataclass
class Step:
    """One beat of the script: wait `delay` seconds (before speed-up), then act."""

    delay: float
    caption: str
    act: Callable[[IncidentStore, str], Awaitable[None]]


Prepare = Callable[[list[NewComment]], list[NewComment]]


def _prepared(prepare: Prepare | None, comments: list[NewComment]) -> list[NewComment]:
    return prepare(comments) if prepare else comments


def script(prepare: Prepare | None = None) -> list[Step]:
    """The demo crisis. `prepare` is the intake's triage (scores and order), when present."""

    async def viral(store: IncidentStore, inc: str) -> None:
        await store.ingest(inc, _prepared(prepare, viral_comments()))

    async def spike(store: IncidentStore, inc: str) -> None:
        comments = _prepared(prepare, spike_comments(120))
        for start in range(0, len(comments), 30):
            await store.ingest(inc, comments[start : start + 30])
        await store.alert(inc, *encode(SpikeAlert(per_minute=120, baseline=30, factor=4)))

    async def bots(store: IncidentStore, inc: str) -> None:
        await store.ingest(inc, _prepared(prepare, bot_comments(25)))

    async def claim_and_draft(store: IncidentStore, inc: str) -> None:
        marta = next(c for c in await store.comments(inc, limit=20) if c.author == "@marta_viaja")
        await store.claim(inc, marta.id, actor="Ana")
        await store.heartbeat(inc, actor="Ana", role="cm", focus="replying to @marta_viaja")
        await store.save_draft(
            inc,
            "Hola Marta, lamentamos mucho la espera: es un error nuestro tras la actualización de la app. "
            "Hemos localizado tu reembolso y te escribimos por mensaje directo hoy antes de las 18:00 con la fecha exacta.",
            actor="Ana", comment_id=marta.id,
        )

    async def decide(store: IncidentStore, inc: str) -> None:
        await store.update_incident(inc, actor="Luis", our_fault=True)
        decision = await store.propose_decision(
            inc, "Publish a holding statement on X, Instagram and Facebook", actor="Sam",
            rationale="the refund bug is ours; say so before it spreads further",
        )
        await store.vote_decision(inc, decision.id, True, actor="Luis")

    async def statement(store: IncidentStore, inc: str) -> None:
        draft = await store.save_draft(
            inc,
            "We're sorry: since Tuesday's app update some refunds are stuck as 'processing'. The error is ours. "
            "Every affected refund will be paid within 48 hours; we will reply to each of you personally.",
            actor="Sam", kind="statement",
        )
        await store.set_draft_status(inc, draft.id, "in_review", actor="Sam")
        await store.set_draft_status(inc, draft.id, "approved", actor="Luis")
        await store.set_draft_status(inc, draft.id, "sent", actor="Sam")

    async def flag_bots(store: IncidentStore, inc: str) -> None:
        await store.add_note(inc, "25 copy-paste accounts created this week: removal requested, no answers", actor="Giulia")
        for c in await store.comments(inc):
            if c.text == BOT_TEXT and c.status == "new":
                await store.mark(inc, c.id, "removal_requested", actor="Giulia", reason="bot farm copy-paste")
                break

    return [
        Step(1.0, "The committee gathers: Luis, Ana, Giulia and Sam join (Committee pane)", _join_all),
        Step(8.0, "A refund complaint goes viral in es, it and en: the worst comes first in the stream", viral),
        Step(15.0, "The stream spikes: 120 comments a minute, the header's sparkline jumps", spike),
        Step(15.0, "A bot farm pastes the same line: the copy-paste cluster is marked in the stream", bots),
        Step(18.0, "Ana claims the worst comment and drafts a calm answer (●Ana in the stream)", claim_and_draft),
        Step(18.0, "The committee decides on a holding statement (see the Timeline)", decide),
        Step(18.0, "The statement is approved and published", statement),
        Step(15.0, "Care flags the bot farm: removal requested, no answers", flag_bots),
    ]


#: Seconds (before speed-up) between the last step and the closing message.
CLOSING_DELAY = 8.0

#: The demo's last word: what a newcomer can try now that the room is theirs.
CLOSING = ("the room is yours. Try j/k to move, Enter to read, c to claim, r to reply, d to decide, "
           "ctrl+p for every command, ctrl+q to quit.")


#: The scripted committee: name, role, what each is doing when the crisis starts.
CAST: tuple[tuple[str, str, str], ...] = (
    ("Luis", "gm", "viewing the timeline"),
    ("Ana", "cm", "watching the stream"),
    ("Giulia", "care", "checking accounts"),
    ("Sam", "marketing", "drafting the statement"),
)


def plays_a_part(name: str) -> bool:
    """Whether `name` is one of the scripted committee (the viewer must not share their claims)."""
    return name.casefold() in {cast.casefold() for cast, _, _ in CAST}


async def _join_all(store: IncidentStore, inc: str) -> None:
    for name, role, focus in CAST:
        await store.heartbeat(inc, actor=name, role=role, focus=focus)


async def keep_present(store: IncidentStore, inc: str, every: float) -> None:
    """Heartbeat the scripted committee every `every` seconds until cancelled (the viewer quits):
    they stay in the room, and the comment Ana holds is never held by someone gone."""
    cast = {name: role for name, role, _ in CAST}
    while True:
        await asyncio.sleep(every)
        for seat in await store.presence(inc):
            if seat.name in cast:  # only those the script has brought in
                await store.heartbeat(inc, actor=seat.name, role=cast[seat.name])


async def create_demo_incident(store: IncidentStore) -> str:
    # every demo is a play of its own, even in a file that holds an earlier one
    incident = await store.create_incident(TITLE, actor="Luis", brand=BRAND, severity="sev2", again=True)
    return incident.id


async def play(
    store: IncidentStore,
    incident_id: str,
    *,
    speed: float = 1.0,
    prepare: Prepare | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> None:
    """Play the script; speed 0 (or inf) plays it without waiting."""
    for step in script(prepare):
        if speed and speed != float("inf"):
            await asyncio.sleep(step.delay / speed)
        if on_step:
            on_step(step)
        await step.act(store, incident_id)
