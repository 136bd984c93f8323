"""`/openapi.json`: every route is in it and in docs/API.md, and schemathesis finds no 500
and no answer that breaks it, on a real loopback server."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis import APIOperation, Case
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crisis_tui.server.openapi import openapi_path
from crisis_tui.server.route_doc import ApiRoute
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

API_MD = Path(__file__).parent.parent / "docs" / "API.md"
_DOC_NAMES = {"{incident_id}": "ID", "{comment_id}": "CID", "{draft_id}": "DID", "{decision_id}": "NID"}
#: Examples per operation and mode: 34 operations x 2 modes x 12 stay near a minute on a loaded machine.
EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def _as_in_docs(path: str) -> str:
    for name, short in _DOC_NAMES.items():
        path = path.replace(name, short)
    return path


def documented_routes() -> dict[str, str]:
    """`METHOD /path` -> its body column, from docs/API.md's route table."""
    found: dict[str, str] = {}
    for line in API_MD.read_text().splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)]
        if len(cells) >= 5 and (route := re.fullmatch(r"`([A-Z]+) (/[^`?]*)(?:\?[^`]*)?`", cells[1])):
            found[f"{route[1]} {route[2]}"] = cells[3]
    return found


async def test_every_route_is_in_the_openapi_document_and_in_the_docs(serve: ServeFactory) -> None:
    served = await serve()
    async with httpx.AsyncClient(base_url=served.url) as client:
        answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["openapi"].startswith("3.1")
    app_routes = {(r.method, openapi_path(r.path)): r for r in served.server.app.routes if isinstance(r, ApiRoute)}
    assert len(app_routes) == len(served.server.app.routes)  # every route says what it is
    in_doc = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert in_doc == set(app_routes)
    in_md = documented_routes()
    assert {f"{m} {_as_in_docs(p)}" for m, p in app_routes} == set(in_md)
    for (method, path), route in app_routes.items():
        op = doc["paths"][path][method.lower()]
        body = in_md[f"{method} {_as_in_docs(path)}"]
        if route.doc.body is None:
            assert "requestBody" not in op and not body.startswith("`{"), (method, path)
            continue
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        if "$ref" not in schema:
            continue  # the webhook's one comment or an array, described below the table
        fields = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        named = re.findall(r"([a-z_]+)(\??)(?::[^,}]*)?(?=[,}])", body.split("{", 1)[1])
        assert {n for n, _ in named} == set(fields["properties"]), (method, path, body)
        if not body.startswith("any of"):
            assert {n for n, optional in named if not optional} == set(fields.get("required", [])), (method, path)
    for code in ("401", "422", "429", "503"):
        assert doc["paths"]["/incidents/{incident_id}/notes"]["post"]["responses"][code]


def _exercise(operation: APIOperation, mode: GenerationMode, url: str, auth: dict[str, str], incident: str,
              statuses: dict[int, int]) -> None:
    """EXAMPLES cases of one operation in one mode, from a fixed seed; raises on the first failed check."""

    @hypothesis.settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def exercise(case: Case) -> None:
        if case.path_parameters and "incident_id" in case.path_parameters and mode is GenerationMode.POSITIVE:
            case.path_parameters["incident_id"] = incident  # reach the store, not only the 404
        response = case.call_and_validate(base_url=url, headers=auth, checks=CHECKS, timeout=20)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    exercise()


async def test_schemathesis_finds_no_500_and_no_answer_outside_the_schema(serve: ServeFactory) -> None:
    served = await serve(rate=0)
    lead_token = await served.token("Luis", "lead")
    auth = {"Authorization": f"Bearer {lead_token}"}
    async with httpx.AsyncClient(base_url=served.url, headers=auth) as client:
        inc = (await client.post("/incidents", json={"title": "Refund delays"})).json()["id"]
        await client.post(f"/incidents/{inc}/comments", json=[
            {"source": "x", "id": str(i), "author": f"@u{i}", "text": f"refund {i}"} for i in range(3)])
        await client.post(f"/incidents/{inc}/drafts", json={"body": "We are sorry.", "comment_id": 1})
        await client.post(f"/incidents/{inc}/decisions", json={"title": "Pause ads"})
    schema = schemathesis.openapi.from_url(served.url + "/openapi.json")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"an operation schemathesis cannot read: {result.err()}")
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _exercise(result.ok(), mode, served.url, auth, inc, statuses)
            except hypothesis.errors.Unsatisfiable:
                continue  # nothing to break in it (GET /health takes no input at all)
            except Exception as exc:  # noqa: BLE001 - every operation is tried; all failures are reported
                failures.append(f"{result.ok().label} ({mode}): {exc}")
    assert not failures, "\n\n".join(failures)
    print("schemathesis answers by status:", dict(sorted(statuses.items())))
    assert sum(statuses.values()) > 300
    assert statuses.get(200, 0) + statuses.get(201, 0) > 50  # it reached the store, not only the refusals
