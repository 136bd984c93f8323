"""The playbook: the committee's roles, severities, SLAs, tone rules and facts.

Read with tomllib, validated into typed structs by msgspec (unknown keys are
refused, so a typo is caught), and checked for what a schema cannot say (ids
unique, someone with decision power). Every problem becomes one PlaybookError
line naming the file, the key and the problem.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec
import platformdirs
import tomli_w

from crisis_tui.errors import PlaybookError

ENV_VAR = "CRISIS_TUI_PLAYBOOK"
_T = TypeVar("_T")


class Role(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    name: str
    decision_power: bool = False
    #: Speaks for the owner of the brand (the client of an agency): a decision marked
    #: "not ours" is taken only when one of them approves it. The articles: consult the
    #: client before acting on decisions that are not ours.
    owner: bool = False
    #: Up to 5 characters for the committee pane (default: the id, upper-cased and cut).
    short: str = ""

    @property
    def label(self) -> str:
        return (self.short or self.id.upper())[:5]


class Severity(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    name: str
    sla_minutes: int
    description: str = ""


class ToneRule(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    label: str
    kind: Literal["auto", "manual"] = "auto"
    description: str = ""
    enabled: bool = True


class ToneWords(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    insults: list[str] = []
    sarcasm: list[str] = []
    apology: list[str] = []
    next_step: list[str] = []
    threats: list[str] = []
    stopwords: list[str] = []


class Tone(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    canned_threshold: float = 0.85
    max_exclamations: int = 1
    #: ALL-CAPS words that are not shouting (acronyms, brand names), any language.
    acronyms: list[str] = []
    rules: list[ToneRule] = []
    words: dict[str, ToneWords] = {}


class Snippet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    title: str
    text: str
    lang: str = ""


class OperatorDefaults(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str = ""
    role: str = "cm"


class PresenceSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    heartbeat_seconds: float = 5.0
    gone_after_seconds: float = 30.0
    #: A member marked gone (or who left) this long has the comments they held freed by the
    #: store, on the record; their drafts stay for whoever claims the comment next.
    release_claims_after_seconds: float = 120.0


class ApprovalRules(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: Nobody approves what they wrote or proposed (the store refuses it).
    four_eyes: bool = False


class Review(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    questions: list[str] = []


class TriageWords(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One language's triage word lists (matched like the tone lists: case and accents
    ignored, whole words, a trailing * allows any ending)."""

    negative: list[str] = []
    insults: list[str] = []
    positive: list[str] = []
    sarcasm: list[str] = []
    hyperbole: list[str] = []
    question: list[str] = []


class TriageWeights(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What each signal adds to a priority (summed, then scaled to 0-100)."""

    negativity: float = 0.45
    reach: float = 0.25
    velocity: float = 0.15
    question: float = 0.15
    verified: float = 0.05
    #: A suspected bot's priority is multiplied by (1 - bot_discount x bot_score).
    bot_discount: float = 0.7


class BotWeights(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How much each bot signal counts (combined as independent evidence)."""

    new_account: float = 0.35
    young_account: float = 0.2
    follow_ratio: float = 0.3
    posting_rate: float = 0.3
    copy_paste: float = 0.4
    handle: float = 0.25
    declared: float = 0.6


#: Handles like "@user84721" or "@maria_g73920184": a name and a long number, as sign-up forms suggest.
DEFAULT_HANDLE_PATTERNS = (
    r"^@?[a-z]+(?:[._][a-z]+)*[._]?\d{5,}$",
    r"^@?(?:user|usuario|utente|account|acc|cuenta|profile)[._]?\d{3,}$",
)


class BotRules(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    threshold: float = 0.6
    new_account_days: float = 7.0
    young_account_days: float = 30.0
    #: "Follows many, followed by few": following >= min_following and followers <= max_followers
    #: or following / followers >= ratio.
    min_following: int = 200
    max_followers: int = 10
    ratio: float = 50.0
    max_posts_per_day: float = 150.0
    burst_comments: int = 5
    burst_minutes: float = 10.0
    copy_paste_min: int = 3
    copy_paste_min_words: int = 5
    #: Regular expressions (searched in the lower-cased handle) of handles that look generated.
    handle_patterns: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_HANDLE_PATTERNS))
    weights: BotWeights = msgspec.field(default_factory=BotWeights)


class SpikeRules(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A spike: comments in the last minute >= factor x the rolling per-minute baseline."""

    factor: float = 3.0
    min_per_minute: int = 20
    baseline_minutes: int = 15
    min_baseline: float = 2.0
    cooldown_minutes: float = 5.0


class ClusterRules(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Near-duplicates: word-set similarity (Jaccard) at or above `similarity`."""

    similarity: float = 0.6
    min_words: int = 4


class Triage(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How the intake scores and orders the stream (crisis_tui.triage)."""

    #: Negativity (0-1) from which a comment reads as a complaint.
    complaint_threshold: float = 0.45
    #: Priority (0-100) from which the room raises a toast; unset: the room's own rank rule.
    toast_priority: float | None = None
    weights: TriageWeights = msgspec.field(default_factory=TriageWeights)
    bot: BotRules = msgspec.field(default_factory=BotRules)
    spike: SpikeRules = msgspec.field(default_factory=SpikeRules)
    cluster: ClusterRules = msgspec.field(default_factory=ClusterRules)
    words: dict[str, TriageWords] = {}


class Publisher(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where approved replies to one platform's comments are posted (`[publish.mastodon]`).

    The secret stays out of the file: `token_env` names the environment variable
    that holds it (Mastodon: an access token; Bluesky: an app password for
    `identifier`), read when a reply is sent.

    With `statements = true` public statements are posted there too, as new posts:
    from the same account, or from the one `statement_token_env` (and on Bluesky
    `statement_identifier`) names, such as the brand's main account.
    """

    base_url: str
    token_env: str
    identifier: str = ""
    timeout_seconds: float = 10.0
    statements: bool = False
    statement_token_env: str = ""
    statement_identifier: str = ""


#: The events a notification target may follow (crisis_tui.notify.rules says which log events are which).
NOTIFY_EVENTS = ("spike", "sla_breach", "decision_proposed", "decision_approved", "statement_sent", "escalation",
                 "escalation_answered", "severity_changed", "sitrep")


class NotifyTarget(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where other departments hear of the crisis (`[[notify]]`), through Apprise.

    `url_env` names the environment variable holding the Apprise URL (mailto://, slack://,
    msteams://, matrix://, ntfy://, json://...), so no secret sits in the playbook.
    `department` makes it the target of escalations to that department ("legal").
    """

    name: str
    url_env: str
    events: list[str] = []
    department: str = ""
    #: Seconds after one notification during which this target gets no other (0: none).
    quiet_seconds: float = 0.0
    #: A drill target: the only kind a drill incident notifies.
    drill: bool = False
    timeout_seconds: float = 10.0


class SitrepSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Situation reports: every `every_minutes` (0: only on demand), to the targets that follow "sitrep"."""

    every_minutes: float = 0.0


#: The platforms crisis_tui.publish can post to.
PUBLISHABLE = ("mastodon", "bluesky")


class Playbook(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str = "Crisis playbook"
    default_language: str = "en"
    default_severity: str = "sev2"
    operator: OperatorDefaults = msgspec.field(default_factory=OperatorDefaults)
    roles: list[Role] = []
    severities: list[Severity] = []
    platforms: dict[str, int] = {}
    presence: PresenceSettings = msgspec.field(default_factory=PresenceSettings)
    approval: ApprovalRules = msgspec.field(default_factory=ApprovalRules)
    tone: Tone = msgspec.field(default_factory=Tone)
    snippets: list[Snippet] = []
    review: Review = msgspec.field(default_factory=Review)
    triage: Triage = msgspec.field(default_factory=Triage)
    keys: dict[str, str] = {}
    publish: dict[str, Publisher] = {}
    notify: list[NotifyTarget] = []
    sitrep: SitrepSettings = msgspec.field(default_factory=SitrepSettings)
    #: Where it was read from (not a TOML key).
    source: str = ""

    def role(self, role_id: str) -> Role | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def has_decision_power(self, role_id: str) -> bool:
        role = self.role(role_id)
        return bool(role and role.decision_power)

    def is_owner(self, role_id: str) -> bool:
        role = self.role(role_id)
        return bool(role and role.owner)

    def owners(self) -> list[Role]:
        """The roles that approve a decision that is not ours."""
        return [r for r in self.roles if r.owner]

    def severity(self, severity_id: str) -> Severity | None:
        return next((s for s in self.severities if s.id == severity_id), None)

    def sla_seconds(self, severity_id: str) -> float:
        sev = self.severity(severity_id) or self.severity(self.default_severity)
        return (sev.sla_minutes if sev else 30) * 60.0

    def platform_limit(self, source: str) -> int:
        return self.platforms.get(source, self.platforms.get("default", 2000))


def shipped_path() -> Path:
    """The playbook that ships with the package (installed) or sits in config/ (checkout)."""
    packaged = Path(__file__).parent / "_config" / "default.toml"
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parent.parent / "config" / "default.toml"


def user_path() -> Path:
    return Path(platformdirs.user_config_dir("crisis-tui")) / "playbook.toml"


def locate(option: str | None = None) -> Path:
    """--playbook, else $CRISIS_TUI_PLAYBOOK, else the user's copy, else the shipped default."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    mine = user_path()
    return mine if mine.exists() else shipped_path()


def _key_from_path(path: str) -> str:
    """msgspec's `$.severities[0].sla_minutes` as `severities[0].sla_minutes`."""
    return path.removeprefix("$").removeprefix(".")


def parse(data: dict[str, Any], source: str) -> Playbook:
    """Validate an already-read TOML table; raise PlaybookError naming the key."""
    publish = data.get("publish")
    if isinstance(publish, dict):
        for platform, table in publish.items():  # msgspec names a table's key only as `publish[...]`
            _convert(table, Publisher, source, f"publish.{platform}")
    book = _convert(data, Playbook, source, "")
    _check(book, source)
    book.source = source
    return book


def _convert(data: Any, shape: type[_T], source: str, prefix: str) -> _T:
    try:
        return msgspec.convert(data, shape, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        problem, _, where = message.partition(" - at `")
        key = _key_from_path(where.rstrip("`")) if where else ""
        if problem.startswith("Object contains unknown field"):
            field = problem.split("`")[1]
            key = f"{key}.{field}" if key else field
            problem = "unknown key (a typo?)"
        key = ".".join(part for part in (prefix, key) if part)
        raise PlaybookError(source, key, problem) from None


def _non_finite(value: object, key: str) -> str | None:
    """The key of the first number that is inf or nan (TOML spells them `inf`, `nan`, `1e999`).

    No setting means anything at infinity: a timeout of `1e999` would wait forever, and a
    threshold of `nan` compares false with everything, so each would pass the range checks."""
    if isinstance(value, float) and not math.isfinite(value):
        return key
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for name, item in items:
        found = _non_finite(item, f"{key}.{name}" if isinstance(name, str) else f"{key}[{name}]")
        if found is not None:
            return found
    return None


def _has_controls(text: str) -> bool:
    """Escape sequences, C1 controls and bidi overrides: what no name that is printed should hold."""
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


def _check(book: Playbook, source: str) -> None:
    found = _non_finite(msgspec.to_builtins(book), "")
    if found is not None:
        raise PlaybookError(source, found.removeprefix("."), "must be a finite number (not inf or nan)")
    tables: tuple[tuple[str, Sequence[Role | Severity | ToneRule | Snippet]], ...] = (
        ("roles", book.roles), ("severities", book.severities), ("tone.rules", book.tone.rules), ("snippets", book.snippets))
    for table, items in tables:
        seen: set[str] = set()
        for index, item in enumerate(items):
            if not item.id.strip():
                raise PlaybookError(source, f"{table}[{index}].id", "must not be empty")
            if item.id in seen:
                raise PlaybookError(source, f"{table}[{index}].id", f"duplicate id {item.id!r}")
            seen.add(item.id)
    if not book.roles:
        raise PlaybookError(source, "roles", "the committee needs at least one role")
    if not any(r.decision_power for r in book.roles):
        raise PlaybookError(source, "roles", "no role has decision_power = true: nobody could approve a decision")
    if not book.severities:
        raise PlaybookError(source, "severities", "at least one severity is needed")
    for index, sev in enumerate(book.severities):
        if sev.sla_minutes <= 0:
            raise PlaybookError(source, f"severities[{index}].sla_minutes", f"must be positive, got {sev.sla_minutes}")
    if book.severity(book.default_severity) is None:
        raise PlaybookError(source, "default_severity", f"{book.default_severity!r} is not one of the severities' ids")
    for name, limit in book.platforms.items():
        if limit <= 0:
            raise PlaybookError(source, f"platforms.{name}", f"must be positive, got {limit}")
    if not 0.0 < book.tone.canned_threshold <= 1.0:
        raise PlaybookError(source, "tone.canned_threshold", f"must be between 0 and 1, got {book.tone.canned_threshold}")
    for index, role in enumerate(book.roles):
        if len(role.short) > 5:
            raise PlaybookError(source, f"roles[{index}].short", f"at most 5 characters, got {role.short!r}")
    if book.presence.release_claims_after_seconds < 0:
        raise PlaybookError(source, "presence.release_claims_after_seconds",
                            f"must be 0 or more, got {book.presence.release_claims_after_seconds}")
    if book.operator.role and book.role(book.operator.role) is None:
        raise PlaybookError(source, "operator.role", f"{book.operator.role!r} is not one of the roles' ids")
    _check_triage(book.triage, source)
    _check_publish(book.publish, source)
    _check_notify(book, source)


def _check_notify(book: Playbook, source: str) -> None:
    names: set[str] = set()
    for index, target in enumerate(book.notify):
        where = f"notify[{index}]"
        if not target.name.strip() or target.name in names:
            raise PlaybookError(source, f"{where}.name", f"must be a name no other target has, got {target.name!r}")
        if _has_controls(target.name):  # printed by serve and the CLI on every failed delivery
            raise PlaybookError(source, f"{where}.name", f"must not hold control characters, got {target.name!r}")
        names.add(target.name)
        if not target.url_env.strip():
            raise PlaybookError(source, f"{where}.url_env", "must name the environment variable that holds the Apprise URL")
        for event in target.events:
            if event not in NOTIFY_EVENTS:
                raise PlaybookError(source, f"{where}.events", f"{event!r} is not one of {', '.join(NOTIFY_EVENTS)}")
        if target.quiet_seconds < 0 or target.timeout_seconds <= 0:
            raise PlaybookError(source, f"{where}.quiet_seconds" if target.quiet_seconds < 0 else f"{where}.timeout_seconds",
                                "must be 0 or more (quiet) and positive (timeout)")
    if book.sitrep.every_minutes < 0:
        raise PlaybookError(source, "sitrep.every_minutes", f"must be 0 or more, got {book.sitrep.every_minutes}")


def _check_publish(publish: dict[str, Publisher], source: str) -> None:
    for platform, publisher in publish.items():
        if platform not in PUBLISHABLE:
            raise PlaybookError(source, f"publish.{platform}",
                                f"no publisher for {platform!r} (known: {', '.join(PUBLISHABLE)})")
        if not publisher.base_url.startswith(("https://", "http://")):
            raise PlaybookError(source, f"publish.{platform}.base_url",
                                f"must be an http(s) address, got {publisher.base_url!r}")
        if not publisher.token_env.strip():
            raise PlaybookError(source, f"publish.{platform}.token_env",
                                "must name the environment variable that holds the access token")
        if platform == "bluesky" and not publisher.identifier.strip():
            raise PlaybookError(source, f"publish.{platform}.identifier",
                                "must name the account that posts (its handle or DID)")
        if platform == "bluesky" and publisher.statement_token_env.strip() and not publisher.statement_identifier.strip():
            raise PlaybookError(source, f"publish.{platform}.statement_identifier",
                                "names the account statement_token_env signs in (a handle or DID)")
        if publisher.timeout_seconds <= 0:
            raise PlaybookError(source, f"publish.{platform}.timeout_seconds",
                                f"must be positive, got {publisher.timeout_seconds}")


def _check_triage(triage: Triage, source: str) -> None:
    for key, value in (
        ("triage.complaint_threshold", triage.complaint_threshold),
        ("triage.bot.threshold", triage.bot.threshold),
        ("triage.cluster.similarity", triage.cluster.similarity),
        ("triage.weights.bot_discount", triage.weights.bot_discount),
    ):
        if not 0.0 < value <= 1.0:
            raise PlaybookError(source, key, f"must be between 0 and 1, got {value}")
    spike = (("triage.spike.factor", triage.spike.factor), ("triage.spike.baseline_minutes", triage.spike.baseline_minutes))
    for key, value in spike:
        if value <= 0:
            raise PlaybookError(source, key, f"must be positive, got {value}")
    for index, pattern in enumerate(triage.bot.handle_patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise PlaybookError(
                source, f"triage.bot.handle_patterns[{index}]", f"not a valid regular expression: {exc}"
            ) from None


def load(path: str | Path | None = None) -> Playbook:
    """Read and validate a playbook file (default: `locate()`)."""
    file = Path(path) if path is not None else locate()
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise PlaybookError(str(file), "", "no such file") from None
    except OSError as exc:
        raise PlaybookError(str(file), "", f"cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PlaybookError(str(file), "", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlaybookError(str(file), "", f"not valid TOML: {exc}") from None
    return parse(data, str(file))


#: Sections the README has people append whole (`[[notify]]`, `[sitrep]`): left out of a copy while they
#: hold their defaults, since `notify = []` or a second `[sitrep]` would make the appended file invalid TOML.
_APPENDED = {"notify": [], "sitrep": msgspec.to_builtins(SitrepSettings())}


def to_toml(book: Playbook) -> str:
    data = msgspec.to_builtins(book)
    data.pop("source", None)
    for key, default in _APPENDED.items():
        if data.get(key) == default:
            del data[key]
    return tomli_w.dumps(_drop_none(data))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def write_copy(target: Path, source: Path | None = None, force: bool = False) -> Path:
    """`crisis-tui init`: an editable copy of a (validated) playbook, written with tomli-w."""
    book = load(source or shipped_path())
    if target.exists() and not force:
        raise PlaybookError(str(target), "", "already exists (use --force to overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)
    header = "# crisis-tui playbook: edit freely; the room reloads it when it changes.\n"
    target.write_text(header + to_toml(book), encoding="utf-8")
    return target
