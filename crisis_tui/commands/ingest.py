"""`crisis-tui ingest INCIDENT SOURCE`: comments in, from wherever the monitoring tools put them.

SOURCE is a JSONL or .json file (`--follow` to tail it), a folder (a drop
folder), `-` (standard input), a .csv export (`--mapping`), an http(s) JSON
feed (`--mapping`), a Mastodon hashtag page (https://HOST/tags/NAME),
Bluesky's Jetstream (`jetstream` or a ws(s):// URL, with `--match TERMS`),
a YouTube video's comment threads (a watch link or `youtube:ID`, with an API
key in YOUTUBE_API_KEY) or a Reddit thread (its link), polled through their presets.
`--mapping` also reads a .json or JSONL file (or stdin) that is a platform's own answer;
where it cannot apply, it is refused, never ignored.
Malformed items are reported on stderr with where and why and kept in a
rejected file; the run ends with exactly one summary line on stdout,
`ingested N, duplicates D, rejected R` (and `, skipped S` when the mapping
skipped items), and exits non-zero only when items were offered and none
could be taken (or the source could not be read at all, such as a feed whose
answer cannot be used with --once).
Long-running modes (follow, folder, feed, Mastodon, Jetstream) stop cleanly on Ctrl-C or
SIGTERM: the chunk in hand is stored, the position saved, the summary printed.
A store that stops taking writes (a full disk, a server gone) ends the run with
one line and a non-zero exit; what was stored stays, the position is that of
the last stored chunk, so the same command run again goes on from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from crisis_tui import file_faults, language, locator
from crisis_tui.commands.context import settings
from crisis_tui.commands.token_option import token_options
from crisis_tui.errors import CrisisError, InvalidInput, StoreUnavailable
from crisis_tui.intake import jetstream, presets, reddit, youtube
from crisis_tui.intake import state as state_mod
from crisis_tui.intake.backlog import JsonlFile
from crisis_tui.intake.chunk import Source
from crisis_tui.intake.csv_file import CsvFile
from crisis_tui.intake.folder import DropFolder
from crisis_tui.intake.follow import FollowedFile
from crisis_tui.intake.http_feed import HttpFeed
from crisis_tui.intake.mapping import MISSING, Mapping
from crisis_tui.intake.mastodon import MastodonTag, parse_tag_url
from crisis_tui.intake.pipeline import Pipeline
from crisis_tui.intake.rejects import RejectLog
from crisis_tui.intake.runner import Runner, Tally
from crisis_tui.intake.stdin_source import StdinLines
from crisis_tui.playbook import Playbook
from crisis_tui.safe_text import one_line

KINDS = ("auto", "jsonl", "csv", "folder", "stdin", "feed", "mastodon", "jetstream", "youtube", "reddit")
#: Polled platforms read through their own preset (said in the "read as ..." line).
POLLED = {"youtube": "youtube", "reddit": "reddit"}
#: The kinds a --mapping applies to.
MAPPED = frozenset({"jsonl", "csv", "feed", "stdin"})


def detect_kind(source: str, kind: str) -> str:
    """The kind of SOURCE when --kind is auto."""
    if kind != "auto":
        return kind
    if source == "-":
        return "stdin"
    if jetstream.is_jetstream(source):
        return "jetstream"
    if youtube.parse_video(source) or (source.startswith("youtube:") and not Path(source).exists()):
        return "youtube"  # a bad id after youtube: is said as one, not as a missing file
    if reddit.parse_thread(source):
        return "reddit"
    if source.startswith(("http://", "https://")):
        return "mastodon" if parse_tag_url(source) else "feed"
    path = Path(source).expanduser()
    if path.is_dir():
        return "folder"
    if path.suffix.lower() in (".csv", ".tsv"):
        return "csv"
    return "jsonl"


class Printer:
    """Stderr lines, kept clear of a live progress bar."""

    def __init__(self) -> None:
        self.console: Any = None

    def __call__(self, message: str) -> None:
        text = one_line(message, 400)
        if self.console is not None:
            self.console.print(text, markup=False, highlight=False, emoji=False)
        else:
            click.echo(text, err=True)


@contextlib.contextmanager
def progress_bar(printer: Printer, total: int | None, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A byte progress bar on stderr for a backlog of known size, when stderr is a terminal."""
    if not enabled or not total:
        yield None
        return
    from rich.console import Console  # noqa: PLC0415 - only for a terminal
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    bar = Progress(TextColumn("ingesting"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                   console=console, transient=True)
    task = bar.add_task("ingest", total=total)
    printer.console = console
    with bar:
        yield lambda position: bar.update(task, completed=position)
    printer.console = None


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


#: Largest .json file looked into to recognise a preset (bigger ones need --preset).
RECOGNISE_BYTES = 64 << 20


def _list_presets(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    for line in presets.listing():
        click.echo(line)
    ctx.exit(0)


@click.command()
@click.option("--presets", is_flag=True, expose_value=False, is_eager=True, callback=_list_presets,
              help="List the shipped presets (platforms' own answers) and exit.")
@click.argument("incident", metavar="INCIDENT")
@click.argument("source", metavar="SOURCE")
@click.option("--kind", type=click.Choice(KINDS), default="auto", show_default=True,
              help="What SOURCE is (auto: - is stdin, a folder a drop folder, .csv a CSV, an http URL a feed "
                   "or a Mastodon /tags/NAME page, anything else JSONL).")
@click.option("--follow", is_flag=True, help="Keep reading the file as it grows (like tail -F).")
@click.option("--from-end", is_flag=True, help="With --follow and no saved position: only lines written from now on.")
@click.option("--once", is_flag=True,
              help="Folder, feed, Mastodon, YouTube, Reddit: take what is there now, then stop (Jetstream: once caught up).")
@click.option("--mapping", "mapping_path", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML mapping of a CSV's columns, or of a feed's or a .json/JSONL file's JSON, to the native shape.")
@click.option("--preset", "preset", default=None, metavar="NAME",
              help="Read SOURCE as a platform's own answer with a shipped mapping (see --presets); "
                   "a .json or JSONL file of a known shape is recognised without it.")
@click.option("--match", "match", default=None, metavar="TERMS",
              help="Jetstream: comma-separated words, #hashtags and @handles a post must have (required there).")
@click.option("--interval", type=float, default=30.0, show_default=True,
              help="Seconds between feed, Mastodon, YouTube or Reddit polls.")
@click.option("--poll", type=float, default=0.05, show_default=True, help="Seconds between looks at a followed file.")
@click.option("--header", "headers", multiple=True, metavar="'NAME: VALUE'", help="HTTP header for a feed (repeatable).")
@click.option("--backfill", type=int, default=0, show_default=True, help="Mastodon: older pages to read at the first start.")
@click.option("--since-id", default=None, help="Mastodon: start after this status id.")
@click.option("--mastodon-token", envvar="MASTODON_TOKEN", default=None, help="Mastodon access token, if the instance needs one.")
@click.option("--youtube-key", envvar=youtube.KEY_ENV, default=None, show_envvar=True,
              help=f"YouTube Data API key (better in {youtube.KEY_ENV}: an option shows in ps).")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to keep the follow/feed/Mastodon position (default: beside the incident file).")
@click.option("--rejected", "rejected_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to keep rejected items (default: SOURCE.rejected.jsonl, rejected/ in a drop folder, "
                   "beside the state file for a feed, Mastodon or stdin).")
@click.option("--progress/--no-progress", default=None, help="Progress bar for a backlog (default: when stderr is a terminal).")
@click.option("--as", "actor", default="intake", show_default=True, help="Who the comments are logged as arriving from.")
@token_options
def ingest(
    incident: str, source: str, kind: str, follow: bool, from_end: bool, once: bool, mapping_path: Path | None,
    preset: str | None, match: str | None, interval: float, poll: float,
    headers: tuple[str, ...], backfill: int, since_id: str | None,
    mastodon_token: str | None, youtube_key: str | None, state_path: Path | None, rejected_path: Path | None,
    progress: bool | None, actor: str, token: str | None,
) -> None:
    """Take comments from SOURCE into INCIDENT, triaged, deduplicated, with bad items reported."""
    cfg = settings()
    kind = detect_kind(source, kind)
    if follow and kind != "jsonl":
        raise click.BadParameter(f"--follow reads a JSONL file; SOURCE is a {kind} source", param_hint="--follow")
    if preset is not None and mapping_path is not None:
        raise click.BadParameter("give --mapping or --preset, not both (a mapping can say extends = \"NAME\")",
                                 param_hint="--preset")
    if preset is not None and preset not in presets.names():
        raise click.BadParameter(f"no preset {preset!r} (presets: {', '.join(presets.names())})", param_hint="--preset")
    recognised: list[str] = []
    if kind == "csv" and mapping_path is None and preset is None:
        preset = _recognised_csv(Path(source).expanduser(), recognised)
    if kind in ("csv", "feed") and mapping_path is None and preset is None:
        raise click.BadParameter(f"a {kind} source needs --mapping FILE (see the README)", param_hint="--mapping")
    for given, option in ((mapping_path, "--mapping"), (preset, "--preset")):
        if given is not None and (kind not in MAPPED or follow):
            what = "a followed file" if follow else f"a {kind} source"
            raise click.BadParameter(f"applies to .json, JSONL, CSV files, stdin and feeds, not {what}",
                                     param_hint=option)
    if preset is not None and (presets.format_of(preset) == "csv") != (kind == "csv"):
        wanted = "a CSV export" if presets.format_of(preset) == "csv" else "a JSON answer"
        raise click.BadParameter(f"{preset} reads {wanted}, not a {kind} source", param_hint="--preset")
    matcher: jetstream.Matcher | None = None
    if kind == "jetstream":
        if match is None:
            raise click.BadParameter("a Jetstream source needs --match TERMS (words, #hashtags, @handles): "
                                     "the whole firehose is every post on Bluesky", param_hint="--match")
        try:
            matcher = jetstream.Matcher(match)
        except CrisisError as exc:
            raise click.BadParameter(exc.problem if isinstance(exc, InvalidInput) else str(exc), param_hint="--match") from None
    elif match is not None:
        raise click.BadParameter(f"applies to a Jetstream source, not a {kind} source", param_hint="--match")
    if kind == "youtube" and not youtube.parse_video(source):
        raise click.BadParameter(f"{source!r} is not a YouTube video (a watch link, youtu.be/ID or youtube:ID)",
                                 param_hint="SOURCE")
    if kind == "reddit" and not reddit.parse_thread(source):
        raise click.BadParameter(f"{source!r} is not a Reddit thread (https://www.reddit.com/r/SUB/comments/ID/...)",
                                 param_hint="SOURCE")
    if kind == "youtube" and not youtube_key:
        raise click.BadParameter(f"a YouTube source needs a Data API key: set {youtube.KEY_ENV} "
                                 "(console.cloud.google.com, YouTube Data API v3)", param_hint="--youtube-key")
    answers: Mapping | None = None
    try:
        if preset is not None:
            answers = presets.load(preset)
        elif mapping_path is not None:
            answers = Mapping.load(mapping_path, section="csv" if kind == "csv" else "json")
        elif kind == "jsonl" and not follow:
            answers = _recognised(Path(source).expanduser(), recognised)
    except CrisisError as exc:
        click.echo(f"crisis-tui: {exc}", err=True)
        sys.exit(2)
    for seconds, option in ((interval, "--interval"), (poll, "--poll")):
        if seconds <= 0:
            raise click.BadParameter("must be positive", param_hint=option)
    header_map: dict[str, str] = {}
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"{header!r} is not 'Name: value'", param_hint="--header")
        header_map[name.strip()] = value.strip()
    refusal = _source_refusal(kind, source, incident)
    if refusal is not None:
        click.echo(f"crisis-tui: {refusal}", err=True)
        sys.exit(2)
    printer = Printer()
    show_progress = sys.stderr.isatty() if progress is None else progress

    #: The mapping the source read with (a preset, a user's, a polled platform's own), for the units it guessed.
    used: list[Mapping] = []

    async def go() -> tuple[Tally, CrisisError | None]:
        store, incident_id = await locator.open_incident(incident, playbook=cfg.playbook, token=token)
        stop = asyncio.Event()
        _stop_on_signals(stop)
        backlog = kind in ("jsonl", "csv") and not follow
        pipeline = Pipeline(cfg.playbook, count_arrivals=not backlog)
        warming = asyncio.create_task(asyncio.to_thread(language.warm, pipeline.guesser.languages))
        target = locator.parse(incident)
        incident_file = target.path.resolve() if target.path is not None else None

        def state(kind_key: str, key: str) -> state_mod.StateFile:
            return state_mod.StateFile(state_path or state_mod.default_path(incident_file, incident_id, kind_key, key))

        rejects = RejectLog(rejected_path or _default_rejected(kind, source, state), printer)
        error: CrisisError | None = None
        tally = Tally()
        try:
            src = _build(kind, source, follow=follow, from_end=from_end, once=once, mapping_path=mapping_path, answers=answers,
                         interval=interval, poll=poll, headers=header_map, backfill=backfill, since_id=since_id,
                         mastodon_token=mastodon_token, stop=stop, report=printer, state=state, book=cfg.playbook,
                         matcher=matcher, youtube_key=youtube_key)
            mapping = getattr(src, "mapping", None)
            if isinstance(mapping, Mapping):
                used.append(mapping)
            await pipeline.warm(store, incident_id)
            await warming
            with progress_bar(printer, src.size if backlog else None, show_progress) as on_progress:
                runner = Runner(store, incident_id, pipeline, rejects, report=printer, progress=on_progress,
                                actor=actor, stop=stop)
                try:
                    tally = await runner.run(src.chunks())
                except CrisisError as exc:
                    error, tally = exc, runner.tally
        except CrisisError as exc:
            error = exc
        finally:
            rejects.close()
            await store.close()
        return tally, error

    try:
        tally, error = asyncio.run(go())
    except CrisisError as exc:  # the incident could not be opened: nothing ran
        click.echo(f"crisis-tui: {exc}", err=True)
        sys.exit(2)
    if error is not None:
        click.echo(f"crisis-tui: {error}", err=True)
    shape = preset or (recognised[0] if recognised else None) or POLLED.get(kind)
    units = used[0].units_said() if used else ""
    if shape is not None and (error is None or tally.taken + tally.rejected):
        click.echo(presets.shape_line(shape, tally.taken + tally.rejected, tally.replies, units), err=True)
    elif units:
        click.echo(f"read {units}", err=True)
    click.echo(tally.summary())
    if isinstance(error, StoreUnavailable) or (tally.taken == 0 and (tally.rejected or error is not None)):
        sys.exit(1)


def _source_refusal(kind: str, source: str, incident: str) -> str | None:
    """Why SOURCE cannot be comments: it is the incident file itself, or some SQLite database."""
    if kind not in ("jsonl", "csv"):
        return None
    path = Path(source).expanduser()
    target = locator.parse(incident)
    with contextlib.suppress(OSError):
        if target.path is not None and path.samefile(target.path):
            return (f"{source} is the incident file itself, not comments: give the comments' file "
                    "(JSONL, JSON or CSV) as SOURCE, after INCIDENT")
    if file_faults.looks_like(path) == "a SQLite database":
        return f"{source} is a SQLite database, not comments: give a JSONL, JSON or CSV file as SOURCE"
    return None


def _default_rejected(kind: str, source: str, state: Callable[[str, str], state_mod.StateFile]) -> Path:
    """Files keep their rejects beside themselves; a feed, Mastodon or stdin beside its
    state file (`room.db.intake/feed-KEY.rejected.jsonl`), never in the working folder."""
    if kind in ("jsonl", "csv"):
        path = Path(source).expanduser()
        return path.with_name(path.name + ".rejected.jsonl")
    if kind == "folder":
        return Path(source).expanduser() / "rejected" / "rejected.jsonl"
    if kind == "mastodon":
        parsed = parse_tag_url(source)
        key = f"{parsed[0]}#{parsed[1]}" if parsed else source
    elif kind == "jetstream":
        key = jetstream.endpoint(source)
    elif kind in POLLED:
        key = _polled_key(kind, source)
    else:
        key = source
    return state_mod.rejected_path(state(kind, key).path)


def _polled_key(kind: str, source: str) -> str:
    """A polled platform's state key: the video or thread, however its link was written."""
    if kind == "youtube":
        video = youtube.parse_video(source)
        return f"{video[0]}?videoId={video[1]}" if video else source
    thread = reddit.parse_thread(source)
    return f"{thread[0]}/comments/{thread[1]}" if thread else source


def _recognised_csv(path: Path, found: list[str]) -> str | None:
    """The preset of a CSV export whose header is a platform's own (Google Play's reviews), said on stderr."""
    name = presets.recognise_header(presets.peek_header(path))
    if name is not None:
        click.echo(f"read as {presets.title(name)} (preset {name}; --preset NAME or --mapping FILE to choose another)",
                   err=True)
        found.append(name)
    return name


def _recognised(path: Path, found: list[str]) -> Mapping | None:
    """The preset of a file in a platform's own shape, said on stderr; None for the native shape."""
    answer = presets.peek(path, RECOGNISE_BYTES)
    name = presets.recognise(answer) if answer is not MISSING else None
    if name is None:
        return None
    click.echo(f"read as {presets.title(name)} (preset {name}; --preset NAME to choose another)", err=True)
    found.append(name)
    return presets.load(name)


def _build(
    kind: str, source: str, *, follow: bool, from_end: bool, once: bool, mapping_path: Path | None,
    answers: Mapping | None, interval: float,
    poll: float, headers: dict[str, str], backfill: int, since_id: str | None, mastodon_token: str | None,
    stop: asyncio.Event, report: Callable[[str], None], state: Callable[[str, str], state_mod.StateFile],
    book: Playbook, matcher: jetstream.Matcher | None = None, youtube_key: str | None = None,
) -> Source:
    if kind == "jetstream":
        assert matcher is not None
        url = jetstream.endpoint(source)
        return jetstream.JetstreamSource(url, matcher, state("jetstream", url), stop, report=report, once=once)
    if kind == "youtube":
        video = youtube.parse_video(source)
        assert video is not None and youtube_key
        return youtube.YouTubeThreads(video[0], video[1], youtube_key, state("youtube", _polled_key(kind, source)),
                                      stop, report=report, interval=interval, once=once)
    if kind == "reddit":
        thread = reddit.parse_thread(source)
        assert thread is not None
        return reddit.RedditThread(thread[0], thread[1], stop, report=report, interval=interval, once=once)
    if kind == "stdin":
        return StdinLines(stop, mapping=answers)
    if kind == "mastodon":
        parsed = parse_tag_url(source)
        if parsed is None:
            raise CrisisError(f"{source}: a Mastodon hashtag looks like https://HOST/tags/NAME")
        base, tag = parsed
        return MastodonTag(base, tag, state("mastodon", f"{base}#{tag}"), stop, report=report, interval=interval,
                           once=once, backfill=backfill, since_id=since_id, token=mastodon_token)
    if kind == "feed":
        assert answers is not None
        return HttpFeed(source, answers, state("feed", source), stop, report=report, interval=interval,
                        once=once, headers=headers)
    path = Path(source).expanduser()
    if kind == "folder":
        return DropFolder(path, stop, report=report, once=once)
    if kind == "csv":
        assert answers is not None
        return CsvFile(path, answers)
    if follow:
        return FollowedFile(path, state("follow", str(path.resolve())), stop, report=report, poll=poll, from_end=from_end)
    return JsonlFile(path, book=book, mapping=answers)


def register(group: click.Group) -> None:
    group.add_command(ingest)
