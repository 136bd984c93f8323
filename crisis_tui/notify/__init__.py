"""Word out to other departments: notifications and situation reports through Apprise.

`rules` says which log events other departments hear of and in which words;
`deliver` sends one message to many targets at once (each in its own thread, with
its own timeout: a slow or failing target never holds up the others); `sitrep`
writes the situation report; `runner` follows the log and records every delivery
and failure on the timeline. Headless: no Textual here.
"""
