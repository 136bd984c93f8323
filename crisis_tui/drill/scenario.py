"""A drill's scenario: a TOML file read and checked before anything is played.

A scenario holds the incident's setting (title, severity, whether the fault is
ours), its waves of comments (when, how many, over how long, which mix of
complaints, questions, praise, sarcasm and bots, in which languages), the
injects at given minutes ("a journalist asks for a statement") and the targets
the committee is scored against. Every text exists in en, es and it, so one
file plays for any committee. A broken file is one line naming the file and
the key (ScenarioError), the way a broken playbook is.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec

from crisis_tui.errors import CrisisError
from crisis_tui.playbook import Playbook

LANGS: tuple[str, ...] = ("en", "es", "it")
#: What a wave's comments can be; each kind's lines are the scenario's `[lines.KIND]`.
KINDS: tuple[str, ...] = ("complaint", "question", "praise", "sarcasm", "bot")
SUFFIX = ".toml"

_T = TypeVar("_T")
Minute = Annotated[float, msgspec.Meta(ge=0, le=24 * 60)]


class ScenarioError(CrisisError):
    """A scenario that cannot be played: one line naming the file, the key and the problem."""

    code = "scenario"

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        super().__init__(f"{path}: {key}: {problem}" if key else f"{path}: {problem}")


class _Table(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class Texts(_Table, kw_only=True):
    """One text in each language a committee may rehearse in."""

    en: str
    es: str
    it: str

    def get(self, lang: str) -> str:
        return str(getattr(self, lang if lang in LANGS else "en"))


class Lines(_Table, kw_only=True):
    """The comment texts of one kind, per language (a wave picks among them)."""

    en: list[str]
    es: list[str]
    it: list[str]

    def get(self, lang: str) -> list[str]:
        return list(getattr(self, lang))


class Setting(_Table, kw_only=True):
    title: Texts
    brand: str = ""
    severity: str = ""
    our_fault: bool = False


class Wave(_Table, kw_only=True):
    """`count` comments from `at_minute`, spread evenly over `minutes`, in the mix's shares."""

    at_minute: Minute
    count: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    minutes: Minute = 0.0
    mix: dict[str, Annotated[float, msgspec.Meta(ge=0)]]
    langs: dict[str, Annotated[float, msgspec.Meta(ge=0)]] = msgspec.field(
        default_factory=lambda: dict.fromkeys(LANGS, 1.0))
    sources: list[str] = msgspec.field(default_factory=lambda: ["x", "instagram", "facebook", "tiktok"])


class Lead(_Table, kw_only=True):
    """One named comment at its minute: the complaint that goes viral, the CEO's post."""

    at_minute: Minute
    author: str
    lang: str
    text: str
    source: str = "x"
    followers: Annotated[int, msgspec.Meta(ge=0)] = 0
    likes: Annotated[int, msgspec.Meta(ge=0)] = 0
    shares: Annotated[int, msgspec.Meta(ge=0)] = 0


class Inject(_Table, kw_only=True):
    """A scripted turn at its minute, put before the committee on the timeline."""

    at_minute: Minute
    text: Texts


class Targets(_Table, kw_only=True):
    """What the committee is scored against, in the scenario's minutes."""

    first_response_minutes: Annotated[float, msgspec.Meta(gt=0)]
    holding_statement_minutes: Annotated[float, msgspec.Meta(gt=0)]
    #: No SLA breach among this many comments with the widest reach.
    top_reach: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 20


class Scenario(_Table, kw_only=True):
    name: Texts
    setting: Setting
    targets: Targets
    #: The drill ends this many minutes in (when its script runs out), unless ended before.
    duration_minutes: Annotated[float, msgspec.Meta(gt=0, le=24 * 60)]
    wave: list[Wave]
    lines: dict[str, Lines]
    lead: list[Lead] = []
    inject: list[Inject] = []
    seed: int = 1
    #: The file's name without .toml (set by `load`): what runs of it are compared under.
    id: str = ""
    source: str = ""


def shipped_dir() -> Path:
    """The scenarios that ship with the package (installed) or sit in config/ (checkout)."""
    packaged = Path(__file__).resolve().parent.parent / "_config" / "scenarios"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "config" / "scenarios"


def shipped() -> list[Path]:
    return sorted(shipped_dir().glob(f"*{SUFFIX}"))


def locate(name: str) -> Path:
    """A shipped scenario by its name ("data-leak"), else a path to a TOML file."""
    given = Path(name).expanduser()
    if given.suffix == SUFFIX or given.exists():
        return given
    candidate = shipped_dir() / f"{name}{SUFFIX}"
    if candidate.exists():
        return candidate
    names = ", ".join(p.stem for p in shipped())
    raise ScenarioError(name, "", f"no such scenario (shipped: {names}; or give a .toml file)")


def load(name: str, playbook: Playbook | None = None) -> Scenario:
    """Read and check a scenario; raise ScenarioError naming the file and the key."""
    path = locate(name)
    where = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(where, "", "no such file") from None
    except OSError as exc:
        raise ScenarioError(where, "", f"cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError(where, "", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(where, "", f"not valid TOML: {exc}") from None
    scenario = parse(data, where, playbook)
    scenario.id = path.stem
    return scenario


def parse(data: dict[str, Any], source: str, playbook: Playbook | None = None) -> Scenario:
    lines = data.get("lines")
    if isinstance(lines, dict):  # msgspec names a dict's value only as `lines[...]`
        for kind, table in lines.items():
            _convert(table, Lines, source, f"lines.{kind}")
    scenario = _convert(data, Scenario, source, "")
    _check(scenario, source, playbook)
    scenario.source = source
    return scenario


def _convert(data: Any, shape: type[_T], source: str, prefix: str) -> _T:
    try:
        return msgspec.convert(data, shape, strict=True)
    except msgspec.ValidationError as exc:
        problem, _, at = str(exc).partition(" - at `")
        key = at.rstrip("`").removeprefix("$").removeprefix(".") if at else ""
        if problem.startswith("Object contains unknown field"):
            field = problem.split("`")[1]
            key = f"{key}.{field}" if key else field
            problem = "unknown key (a typo?)"
        raise ScenarioError(source, ".".join(p for p in (prefix, key) if p), problem) from None


def _check(s: Scenario, source: str, playbook: Playbook | None) -> None:
    def fail(key: str, problem: str) -> None:
        raise ScenarioError(source, key, problem)

    for kind, lines in s.lines.items():
        if kind not in KINDS:
            fail(f"lines.{kind}", f"not a kind of comment ({', '.join(KINDS)})")
        for lang in LANGS:
            if not [t for t in lines.get(lang) if t.strip()]:
                fail(f"lines.{kind}.{lang}", "give at least one line")
    if not s.wave:
        fail("wave", "give at least one [[wave]]")
    for i, wave in enumerate(s.wave):
        key = f"wave[{i}]"
        if not wave.mix or sum(wave.mix.values()) <= 0:
            fail(f"{key}.mix", "give at least one kind with a share above 0")
        for kind in wave.mix:
            if kind not in s.lines:
                fail(f"{key}.mix.{kind}", f"no [lines.{kind}] to draw from")
        if not wave.langs or sum(wave.langs.values()) <= 0:
            fail(f"{key}.langs", "give at least one language with a share above 0")
        for lang in wave.langs:
            if lang not in LANGS:
                fail(f"{key}.langs.{lang}", f"not a language of the scenarios ({', '.join(LANGS)})")
        if not wave.sources:
            fail(f"{key}.sources", "name at least one platform")
        if wave.at_minute + wave.minutes > s.duration_minutes:
            fail(f"{key}.at_minute", f"the wave runs past duration_minutes ({s.duration_minutes:g})")
    for i, lead in enumerate(s.lead):
        if lead.lang not in LANGS:
            fail(f"lead[{i}].lang", f"not a language of the scenarios ({', '.join(LANGS)})")
        if not lead.text.strip() or not lead.author.strip():
            fail(f"lead[{i}]", "give its author and text")
        if lead.at_minute > s.duration_minutes:
            fail(f"lead[{i}].at_minute", f"after duration_minutes ({s.duration_minutes:g})")
    for i, inject in enumerate(s.inject):
        if inject.at_minute > s.duration_minutes:
            fail(f"inject[{i}].at_minute", f"after duration_minutes ({s.duration_minutes:g})")
    if playbook is not None and s.setting.severity and playbook.severity(s.setting.severity) is None:
        ids = ", ".join(sev.id for sev in playbook.severities)
        fail("setting.severity", f"{s.setting.severity!r} is not a severity of the playbook ({ids})")
