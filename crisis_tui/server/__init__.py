"""`crisis-tui serve`: one SqliteStore shared over HTTP (Starlette on uvicorn).

One module per job: `app` wires the Starlette application, `state` holds what
every request shares, `routes` maps the JSON API onto the store, `stream`
serves the event log (JSON or live SSE), `auth` checks bearer tokens and
roles, `ratelimit` and `limits` refuse floods and oversized bodies, `webhook`
validates incoming comments, `responses` encodes answers and errors,
`background` runs a server in a thread for tests and benchmarks. No Textual
anywhere here.

The shapes on the wire (request bodies, error answers, SSE frames) are not
here but in crisis_tui.wire, which HttpStore imports too: the client never
loads this package.
"""
