"""How long the whole tone checklist takes on a 2,000-character draft.

The room re-checks the draft on every keystroke, so all rules together must
stay well inside a frame: target <= 5 ms median. The draft is a realistic
reply in each language (built from real sentences, padded to 2,000
characters), checked in the situation that costs most: a comment to compare
for focus, 40 earlier replies of similar length in the incident for the canned
detector (half of them near the draft's length, so the length bound cannot
skip them), the fault ours, an SLA clock running, and no language given (so it
is guessed). Each run appends a character, as typing does, so no cache of the
draft's own text helps. A second figure repeats it in a big incident: 2,000
earlier replies. The generated replies all come from five sentences per
language, so most share every word with the draft: the worst case for the
canned detector's index (real replies share far fewer words).

    .venv/bin/python bench/tone.py           # figures, human-readable
    .venv/bin/python bench/tone.py --json    # one JSON object
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and bench/http.py would hide
# the standard library's `http` package from httpx (the store imports it to publish).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from crisis_tui import playbook as playbook_mod  # noqa: E402
from crisis_tui.tone import ToneChecker, ToneContext  # noqa: E402

TARGET_MS = 5.0
LENGTH = 2_000
EARLIER = 40
BIG_INCIDENT = 2_000

SENTENCES = {
    "en": ["We're sorry that your refund has been stuck since the app update.",
           "Please send us your order number by DM and we'll check it today.",
           "Our care team is working through every delayed refund one by one.",
           "You can follow the status at https://example.com/refunds at any time.",
           "If nothing has moved by tomorrow, call us on 900 123 456 and ask for Ana."],
    "es": ["Lo sentimos mucho: tres semanas esperando el reembolso es demasiado.",
           "Escríbenos por mensaje directo con tu número de pedido y hoy lo revisamos.",
           "El equipo de atención está revisando cada reembolso retrasado.",
           "Puedes seguir el estado en https://example.com/refunds cuando quieras.",
           "Si mañana sigue igual, llámanos al 900 123 456 de 8:00 a 22:00."],
    "it": ["Ci scusiamo: venti giorni senza rimborso non sono accettabili.",
           "Scrivici in privato il numero d'ordine e ti aggiorniamo entro oggi.",
           "Il servizio clienti sta verificando ogni rimborso in ritardo.",
           "Puoi seguire lo stato su https://example.com/refunds in qualsiasi momento.",
           "Se domani non cambia nulla, chiama il numero verde 800 123 456."],
}
COMMENTS = {
    "en": "Since the app update my refund is 'processing' forever. Support chat closes on me.",
    "es": "Llevo TRES semanas esperando el reembolso y nadie contesta. Vergüenza de servicio.",
    "it": "Ordine annullato e rimborso sparito da 20 giorni. Il servizio clienti non risponde.",
}


def text_of(lang: str, length: int, rng: random.Random) -> str:
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < length:
        parts.append(rng.choice(SENTENCES[lang]))
    return " ".join(parts)[:length]


def timings_ms(checker: ToneChecker, runs: int, earlier_count: int, rng: random.Random) -> list[float]:
    now = time.time()
    timings: list[float] = []
    for lang in ("en", "es", "it"):
        draft = text_of(lang, LENGTH, rng)
        earlier = tuple(text_of(rng.choice(["en", "es", "it"]), rng.choice([400, 1900, 2000, 2100]), rng)
                        for _ in range(earlier_count))
        ctx = ToneContext(comment_text=COMMENTS[lang], platform="facebook", our_fault=True, severity="sev1",
                          comment_received_at=now - 300, now=now, earlier_replies=earlier)
        checker.check(draft, ctx)  # index the earlier replies once, as the open editor has
        for i in range(runs):
            typed = draft[: LENGTH - 1] + "abcdefghij"[i % 10]
            start = time.perf_counter()
            checker.check(typed, ctx)
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return timings


def measure(runs: int) -> dict[str, float]:
    checker = ToneChecker(playbook_mod.load(playbook_mod.shipped_path()))
    rng = random.Random(7)
    timings = timings_ms(checker, runs, EARLIER, rng)
    big = timings_ms(checker, max(runs // 4, 10), BIG_INCIDENT, rng)
    return {
        "lint_2000_median_ms": round(statistics.median(timings), 3),
        "lint_2000_p95_ms": round(timings[int(len(timings) * 0.95) - 1], 3),
        "lint_2000_max_ms": round(timings[-1], 3),
        "lint_2000_big_incident_median_ms": round(statistics.median(big), 3),
        "runs": len(timings),
        "earlier_replies": EARLIER,
        "big_incident_earlier_replies": BIG_INCIDENT,
        "target_median_ms": TARGET_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=400, help="checks per language (default 400)")
    args = parser.parse_args()
    figures = measure(args.runs)
    if args.json:
        print(json.dumps(figures))
        return
    verdict = "meets" if figures["lint_2000_median_ms"] <= TARGET_MS else "MISSES"
    print(f"all tone rules on a {LENGTH}-character draft, {EARLIER} earlier replies, {figures['runs']} checks")
    print(f"  median {figures['lint_2000_median_ms']:.3f} ms ({verdict} the {TARGET_MS:.0f} ms target)")
    print(f"  p95    {figures['lint_2000_p95_ms']:.3f} ms")
    print(f"  max    {figures['lint_2000_max_ms']:.3f} ms")
    print(f"  median with {BIG_INCIDENT} earlier replies: {figures['lint_2000_big_incident_median_ms']:.3f} ms")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
