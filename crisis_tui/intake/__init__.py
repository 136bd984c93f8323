"""Comment intake: every source a monitoring tool offers, into one native shape, triaged, stored.

One module per source (`backlog` JSONL/.json files, `follow` a growing file,
`folder` a drop folder, `stdin_source`, `csv_file` and `http_feed` through a
TOML `mapping`, `mastodon` a hashtag timeline), each yielding `chunk.Chunk`s;
`runner` drives a source into the store through the `pipeline` (language,
triage, spikes), keeping `rejects` and saving positions (`state`). `parallel`
moves a big backlog's parsing and triage to a second process. Imports no
Textual: `crisis-tui ingest` (crisis_tui.commands.ingest) is its front door.
"""
