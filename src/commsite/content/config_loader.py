"""commsite.yaml to `SiteConfig`, collecting every problem with its line."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import yaml

import commsite.themes
from commsite.config import (
    ACTOR_TYPES,
    APPROVE_POLICIES,
    DEFAULT_POLL_OPTIONS,
    DEFAULT_RSVP_WORDS,
    OBJECT_TYPES,
    CommunityConfig,
    FederationConfig,
    ModerationConfig,
    RsvpConfig,
    SidecarConfig,
    SiteConfig,
    is_postgres_url,
)
from commsite.content import fields as f
from commsite.content.model import RSVP_ANSWERS
from commsite.content.safe_files import admit, read_input, site_fence
from commsite.content.scaffold import STARTER_HOST
from commsite.content.textfile import decode_text
from commsite.content.yamltext import parse_yaml
from commsite.content.zones import zone_hint
from commsite.errors import Diagnostic, Severity

__all__ = ["CONFIG_FILE", "derive_handle", "load_config", "missing_config"]

CONFIG_FILE = "commsite.yaml"

_BCP47 = re.compile(
    r"[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}"  # language, extlang
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|\d{3}))?"  # region
    r"(?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*"  # variants
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"  # extensions
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?"  # private use
)
_USERNAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_HOST = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_HOST_PORT = re.compile(
    r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::(?P<port>\d{1,5}))?"
)


def derive_handle(title: str) -> str:
    """The default community handle: the title in lowercase a-z, 0-9 and '_'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    handle = re.sub(r"[^a-z0-9_]+", "_", ascii_title.lower()).strip("_")
    return handle or "community"


def _base_url(key: str, value: object) -> str:
    url = f.http_url(key, value)
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise f.Invalid(
            f"'{key}' cannot have a query or fragment (got {f.show(value)})",
            "give the address the site is served from, e.g. https://example.org/",
        )
    if parts.username is not None or parts.password is not None:
        raise f.Invalid(
            f"'{key}' cannot contain a user name (got {f.show(value)})",
            f"give only the address, e.g. {parts.scheme.lower()}://{parts.hostname}/",
        )
    # Scheme and host are case-insensitive: write them the one way the fediverse
    # compares ids (https://Club.Example/ and https://club.example/ are one site).
    url = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))
    return url if url.endswith("/") else url + "/"


def _language(key: str, value: object) -> str:
    tag = f.text(key, value)
    if _BCP47.fullmatch(tag):
        return tag
    hint = "use a BCP 47 language tag such as en, de or pt-BR"
    if _BCP47.fullmatch(tag.replace("_", "-")):
        hint = f"use a hyphen: {tag.replace('_', '-')}"
    raise f.Invalid(f"'{key}' is not a language tag (got {f.show(value)})", hint)


def _timezone(key: str, value: object) -> str:
    name = f.text(key, value)
    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        pass
    else:
        return name
    hint = zone_hint(name)
    raise f.Invalid(f"'{key}' is not a time zone (got {f.show(value)})", hint)


def _username(key: str, value: object) -> str:
    name = f.text(key, value)
    if _USERNAME.fullmatch(name):
        return name
    hint = "use letters, digits and '_', e.g. repair_cafe"
    match = re.fullmatch(r"@?([^@]+)@.*", name)
    if match:
        hint = f"give only the user part: '{match.group(1)}'"
    raise f.Invalid(f"'{key}' is not a valid handle (got {f.show(value)})", hint)


def _each(check: Callable[[str, tuple[str, ...]], tuple[str, ...]]) -> f.Validator:
    """A list validator: `check` (key, items) after text_list, which may take
    "a, b" as a list with a warning (fields.Accepted): then the items are checked
    and the warning kept."""

    def validate(key: str, value: object) -> tuple[str, ...]:
        try:
            items = f.text_list(key, value)
        except f.Accepted as taken:
            assert isinstance(taken.value, tuple)
            raise f.Accepted(check(key, taken.value), taken.message, taken.hint) from None
        return check(key, items)

    return validate


def _hosts(key: str, hosts: tuple[str, ...]) -> tuple[str, ...]:
    for host in hosts:
        if not _HOST.fullmatch(host):
            bare = urlsplit(host).hostname if "://" in host else None
            raise f.Invalid(
                f"'{key}' must list host names (got {f.show(host)})",
                f"write just the host: {bare}" if bare else "write host names like spam.example",
            )
    return tuple(h.lower() for h in hosts)


def _host_aliases(key: str, hosts: tuple[str, ...]) -> tuple[str, ...]:
    for host in hosts:
        match = _HOST_PORT.fullmatch(host)
        if not match or not 0 < int(match.group("port") or 1) < 65536:
            bare = urlsplit(host).netloc if "://" in host else None
            raise f.Invalid(
                f"'{key}' must list host names, with a port if need be (got {f.show(host)})",
                f"write just the host: {bare}"
                if bare
                else "write e.g. www.example.org, or 127.0.0.1:8787 for one port",
            )
    return tuple(h.lower() for h in hosts)


def _actors(key: str, actors: tuple[str, ...]) -> tuple[str, ...]:
    for actor in actors:
        if actor.startswith("@"):
            f.handle(key, actor)
        else:
            try:
                f.http_url(key, actor)
            except f.Invalid:
                raise f.Invalid(
                    f"'{key}' must list handles (@user@host) or actor URLs (got {f.show(actor)})",
                    'put handles in quotes, e.g. "@spammer@spam.example"',
                ) from None
    return actors


def _rsvp_words(key: str, value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`rsvp.words`: {answer: [words...]}; an answer not given keeps its defaults."""
    example = "write e.g.  words: {going: [going, 'count me in'], maybe: [maybe]}"
    if not isinstance(value, dict):
        raise f.Invalid(f"'{key}' must map answers to lists of words (got {f.show(value)})",
                        example)  # fmt: skip
    given: dict[str, tuple[str, ...]] = {}
    for answer, words in value.items():
        if answer not in RSVP_ANSWERS:
            raise f.Invalid(
                f"'{key}' has an unknown answer {f.show(answer)}",
                f"the answers are {', '.join(RSVP_ANSWERS)}",
            )
        items = [words] if isinstance(words, str) else words
        if not isinstance(items, list) or not all(isinstance(w, str) and w.strip() for w in items):
            raise f.Invalid(
                f"'{key}.{answer}' must be a list of non-empty words (got {f.show(words)})",
                example,
            )
        given[str(answer)] = tuple(" ".join(w.split()) for w in items)
    return tuple((a, given.get(a, dict(DEFAULT_RSVP_WORDS).get(a, ()))) for a in RSVP_ANSWERS)


def _poll_options(key: str, value: object) -> tuple[tuple[str, str], ...]:
    """`rsvp.poll_options`: {answer: option name}; names distinct (votes name them)."""
    if not isinstance(value, dict):
        raise f.Invalid(
            f"'{key}' must map answers to the poll's option names (got {f.show(value)})",
            'write e.g.  poll_options: {going: Going, maybe: Maybe, not_going: "Can\'t go"}',
        )
    names = dict(DEFAULT_POLL_OPTIONS)
    for answer, name in value.items():
        if answer not in RSVP_ANSWERS:
            raise f.Invalid(
                f"'{key}' has an unknown answer {f.show(answer)}",
                f"the answers are {', '.join(RSVP_ANSWERS)}",
            )
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 50:
            raise f.Invalid(
                f"'{key}.{answer}' must be a name of 1 to 50 characters (got {f.show(name)})",
                "Mastodon shows at most 50 characters of an option",
            )
        names[str(answer)] = name.strip()
    if len(set(names.values())) < len(names):
        raise f.Invalid(
            f"'{key}' gives two answers the same name",
            "a vote names its option: give each answer its own name",
        )
    return tuple((a, names[a]) for a in RSVP_ANSWERS)


_TOKEN_SHAPE = re.compile(r"(ghp_|gho_|ghs_|github_pat_|glpat-|glptt-)\S+|[A-Za-z0-9_-]{30,}")


def _env_name(key: str, value: object) -> str:
    """The NAME of an environment variable (the token itself never goes in commsite.yaml)."""
    name = f.text(key, value)
    if _TOKEN_SHAPE.fullmatch(name) and not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        raise f.Invalid(
            f"'{key}' looks like a token, not the name of an environment variable",
            "never put a token in commsite.yaml: revoke this one, put the new one in an"
            " environment variable, e.g. COMMSITE_REBUILD_TOKEN, and write that name here",
        )
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise f.Invalid(
            f"'{key}' must be the name of an environment variable (got {f.show(name)})",
            "use letters, digits and _, e.g. COMMSITE_REBUILD_TOKEN",
        )
    return name


def _database(key: str, value: object) -> str:
    """`sidecar.database`: a postgresql:// URL without a password (SQLite needs no key)."""
    url = f.text(key, value).strip()
    example = "e.g. postgresql://commsite@db.example.org/community"
    if not is_postgres_url(url):
        raise f.Invalid(
            f"'{key}' must be a postgresql:// URL (got {f.show(url)})",
            f"{example}; leave it out to keep the SQLite file in sidecar.data_dir",
        )
    try:
        parts = urlsplit(url)
        has_password = parts.password is not None
    except ValueError:
        raise f.Invalid(f"'{key}' is not a valid URL (got {f.show(url)})", example) from None
    if has_password or re.search(r"(^|&)password=", parts.query):
        raise f.Invalid(
            f"'{key}' contains a password",
            "never put a password in commsite.yaml: change it, and put the new one in an"
            " environment variable named by sidecar.database_password_env (or PGPASSWORD)",
        )
    return url


_SECTIONS = ("community", "federation", "moderation", "sidecar", "rsvp")

# dotted key -> (validator, required)
SCHEMA: dict[str, tuple[f.Validator, bool]] = {
    "title": (f.text, True),
    "base_url": (_base_url, True),
    "description": (f.text, False),
    "language": (_language, False),
    "timezone": (_timezone, False),
    "theme": (f.text, False),
    "per_page": (f.integer(1, 500), False),
    "search": (f.boolean, False),
    "community.handle": (_username, False),
    "community.name": (f.text, False),
    "community.summary": (f.text, False),
    "community.avatar": (f.static_path, False),
    "community.header_image": (f.static_path, False),
    "community.actor_type": (f.choice(ACTOR_TYPES), False),
    "federation.enabled": (f.boolean, False),
    "federation.allow_private_addresses": (f.boolean, False),
    "federation.story_type": (f.choice(OBJECT_TYPES), False),
    "federation.inbox_url": (f.http_url, False),
    "moderation.approve": (f.choice(APPROVE_POLICIES), False),
    "moderation.blocked_domains": (_each(_hosts), False),
    "moderation.blocked_actors": (_each(_actors), False),
    "moderation.hold_keywords": (f.text_list, False),
    "sidecar.host": (f.text, False),
    "sidecar.port": (f.integer(1, 65535), False),
    "sidecar.rebuild_webhook": (f.http_url, False),
    "sidecar.rebuild_token_env": (_env_name, False),
    "sidecar.rebuild_ref": (f.text, False),
    "sidecar.data_dir": (f.text, False),
    "sidecar.host_aliases": (_each(_host_aliases), False),
    "sidecar.database": (_database, False),
    "sidecar.database_password_env": (_env_name, False),
    "rsvp.words": (_rsvp_words, False),
    "rsvp.poll": (f.boolean, False),
    "rsvp.poll_options": (_poll_options, False),
}
_STATIC_KEYS = ("community.avatar", "community.header_image")


def _flatten(
    node: yaml.Node, data: dict[object, object]
) -> tuple[dict[str, object], dict[str, int], list[tuple[str, int]], list[tuple[str, int, str]]]:
    """Values and lines by dotted key; unknown keys; sections that are not mappings."""
    values: dict[str, object] = {}
    lines: dict[str, int] = {}
    unknown: list[tuple[str, int]] = []
    not_mappings: list[tuple[str, int, str]] = []
    assert isinstance(node, yaml.MappingNode)
    for key_node, value_node in node.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        value = data.get(key_node.value)
        if key in _SECTIONS:
            lines[key] = line
            if value is None:
                continue
            if not isinstance(value, dict) or not isinstance(value_node, yaml.MappingNode):
                not_mappings.append((key, line, f.show(value)))
                continue
            for sub_node, _ in value_node.value:
                dotted = f"{key}.{sub_node.value}"
                sub_line = sub_node.start_mark.line + 1
                if dotted in SCHEMA:
                    values[dotted] = value.get(sub_node.value)
                    lines[dotted] = sub_line
                else:
                    unknown.append((dotted, sub_line))
        elif key in SCHEMA:
            values[key] = value
            lines[key] = line
        else:
            unknown.append((key, line))
    return values, lines, unknown, not_mappings


def _suggest(dotted: str) -> str:
    as_dotted = re.sub(r"[_-]", ".", dotted, count=1)
    if "." not in dotted and as_dotted in SCHEMA:  # community_handle -> community.handle
        section, leaf = as_dotted.split(".")
        return f"did you mean '{as_dotted}'? (write '{leaf}:' indented under '{section}:')"
    leaf = dotted.rsplit(".", 1)[-1]
    moved = [k for k in SCHEMA if k.rsplit(".", 1)[-1] == leaf and k != dotted]
    if moved:
        section = moved[0].split(".")[0]
        return f"did you mean '{moved[0]}'? (put it under '{section}:')"
    section = dotted.split(".")[0] + "." if "." in dotted else ""
    siblings = [k for k in SCHEMA if k.startswith(section) and (section or "." not in k)]
    siblings += [s for s in _SECTIONS if not section]
    return f.did_you_mean(dotted, siblings) or "known keys: " + ", ".join(siblings)


def missing_config(root: Path) -> Diagnostic:
    """The one problem of a folder without commsite.yaml: a site that lost it (it
    has content/), or most likely not a site at all (a wrong folder or path)."""
    if (root / "content").is_dir():
        hint = "create it with at least 'title:' and 'base_url:' (or run `commsite init`)"
    else:
        hint = "is this a commsite site? create one with `commsite init DIR`"
    return Diagnostic(CONFIG_FILE, None, f"{CONFIG_FILE} is missing", hint=hint)


def load_config(root: Path) -> tuple[SiteConfig | None, list[Diagnostic]]:
    """Read ROOT/commsite.yaml. Returns None (and every problem) when it has errors."""
    path = root / CONFIG_FILE
    _, refused = admit(site_fence(root), path, CONFIG_FILE)  # a link out, a FIFO
    if refused:
        return None, refused
    try:
        raw = read_input(path)
    except FileNotFoundError:
        return None, [missing_config(root)]
    except OSError as exc:
        return None, [Diagnostic(CONFIG_FILE, None, f"cannot read {CONFIG_FILE}: {exc.strerror}")]
    text, undecodable = decode_text(CONFIG_FILE, raw)
    if text is None:
        return None, [undecodable] if undecodable else []
    doc, problem = parse_yaml(text, CONFIG_FILE, 1)
    if doc is None:
        return None, [problem] if problem else []
    if not isinstance(doc.data, dict) or doc.node is None:
        return None, [
            Diagnostic(
                CONFIG_FILE,
                1,
                f"{CONFIG_FILE} must be keys and values (got {f.show(doc.data)})",
                hint="write one 'key: value' a line, starting with 'title:' and 'base_url:'",
            )
        ]
    return _build(root, doc.node, doc.data)


def _build(
    root: Path, node: yaml.Node, data: dict[object, object]
) -> tuple[SiteConfig | None, list[Diagnostic]]:
    raw, lines, unknown, not_mappings = _flatten(node, data)
    problems: list[Diagnostic] = []
    for key, line in unknown:
        problems.append(
            Diagnostic(CONFIG_FILE, line, f"unknown key '{key}'", Severity.WARNING, _suggest(key))
        )
    for key, line, got in not_mappings:
        problems.append(
            Diagnostic(
                CONFIG_FILE,
                line,
                f"'{key}' must be a mapping of keys (got {got})",
                hint=f"indent its keys under '{key}:'",
            )
        )
    values: dict[str, object] = {}
    for key, (validator, required) in SCHEMA.items():
        if key not in raw or (raw[key] is None and not required):
            if required:
                problems.append(
                    Diagnostic(
                        CONFIG_FILE,
                        None,
                        f"missing required key '{key}'",
                        hint=f"add a line '{key}: ...'",
                    )
                )
            continue
        value = raw[key]
        if required and (value is None or (isinstance(value, str) and not value.strip())):
            problems.append(
                Diagnostic(
                    CONFIG_FILE,
                    lines[key],
                    f"'{key}' is empty",
                    hint=f"give it a value: {key}: ...",
                )
            )
            continue
        try:
            values[key] = validator(key, raw[key])
        except f.Accepted as exc:  # taken, with a warning showing the canonical form
            values[key] = exc.value
            problems.append(
                Diagnostic(CONFIG_FILE, lines[key], exc.message, Severity.WARNING, exc.hint)
            )
        except f.Invalid as exc:
            problems.append(Diagnostic(CONFIG_FILE, lines[key], exc.message, hint=exc.hint))
    base_url = values.get("base_url")
    if isinstance(base_url, str) and urlsplit(base_url).hostname == STARTER_HOST:
        problems.append(
            Diagnostic(
                CONFIG_FILE,
                lines["base_url"],
                f"'base_url' is still the starter's placeholder {base_url}",
                Severity.WARNING,
                "set it to the address the site will be published at, e.g."
                " https://fixers.example.org/ (its host is in your fediverse handle)",
            )
        )
    for key in _STATIC_KEYS:
        rel = values.get(key)
        if isinstance(rel, str):
            try:
                f.static_file(root, key, rel)
            except f.Invalid as exc:
                problems.append(Diagnostic(CONFIG_FILE, lines[key], exc.message, hint=exc.hint))
    theme = values.get("theme")
    if isinstance(theme, str):
        try:
            _check_theme(root, theme)
        except f.Invalid as exc:
            problems.append(Diagnostic(CONFIG_FILE, lines["theme"], exc.message, hint=exc.hint))
    if any(d.is_error for d in problems):
        return None, problems
    return _config(values), problems


def _bundled_themes() -> dict[str, Path]:
    """Name -> directory of each theme shipped in the package commsite.themes."""
    root = Path(commsite.themes.__file__).resolve().parent
    return {p.name: p for p in root.iterdir() if (p / "templates").is_dir()}


def _check_theme(root: Path, name: str) -> None:
    """Raise Invalid unless NAME is a bundled theme or a theme directory (with
    templates/) relative to the site; the renderer resolves it the same way."""
    bundled = _bundled_themes()
    if "/" not in name and "\\" not in name and name in bundled:
        return
    if (root / name / "templates").is_dir():
        return
    choices = ", ".join(sorted(bundled))
    if (root / name).is_dir():
        raise f.Invalid(
            f"'theme' names the folder {name}, which has no templates/ folder",
            f"put the theme's templates in {name}/templates/, or use a bundled theme: {choices}",
        )
    hint = f.did_you_mean(name, bundled) or (
        f"use a bundled theme ({choices}) or a path, relative to the site, to a folder"
        " with templates/"
    )
    raise f.Invalid(f"'theme' is not a bundled theme or a folder (got {f.show(name)})", hint)


def _config(v: dict[str, object]) -> SiteConfig:
    def text(key: str, default: str) -> str:
        value = v.get(key, default)
        return value if isinstance(value, str) else default

    def optional(key: str) -> str | None:
        value = v.get(key)
        return value if isinstance(value, str) else None

    def texts(key: str) -> tuple[str, ...]:
        value = v.get(key, ())
        return tuple(str(item) for item in value) if isinstance(value, tuple) else ()

    def number(key: str, default: int) -> int:
        value = v.get(key, default)
        return value if isinstance(value, int) else default

    def flag(key: str, default: bool) -> bool:
        value = v.get(key, default)
        return value if isinstance(value, bool) else default

    title = text("title", "")
    description = text("description", "")
    return SiteConfig(
        title=title,
        base_url=text("base_url", ""),
        description=description,
        language=text("language", "en"),
        timezone=text("timezone", "UTC"),
        theme=text("theme", "default"),
        per_page=number("per_page", 10),
        search=flag("search", True),
        community=CommunityConfig(
            handle=text("community.handle", derive_handle(title)),
            name=text("community.name", title),
            summary=text("community.summary", description),
            avatar=optional("community.avatar"),
            header_image=optional("community.header_image"),
            actor_type=text("community.actor_type", "Group"),
        ),
        federation=FederationConfig(
            enabled=flag("federation.enabled", True),
            allow_private_addresses=flag("federation.allow_private_addresses", False),
            story_type=text("federation.story_type", "Note"),
            inbox_url=optional("federation.inbox_url"),
        ),
        moderation=ModerationConfig(
            approve=text("moderation.approve", "members"),
            blocked_domains=texts("moderation.blocked_domains"),
            blocked_actors=texts("moderation.blocked_actors"),
            hold_keywords=texts("moderation.hold_keywords"),
        ),
        sidecar=SidecarConfig(
            host=text("sidecar.host", "127.0.0.1"),
            port=number("sidecar.port", 8787),
            rebuild_webhook=optional("sidecar.rebuild_webhook"),
            rebuild_token_env=optional("sidecar.rebuild_token_env"),
            rebuild_ref=text("sidecar.rebuild_ref", "main"),
            data_dir=text("sidecar.data_dir", ".commsite"),
            host_aliases=texts("sidecar.host_aliases"),
            database=optional("sidecar.database"),
            database_password_env=optional("sidecar.database_password_env"),
        ),
        rsvp=RsvpConfig(
            words=v.get("rsvp.words", DEFAULT_RSVP_WORDS),  # type: ignore[arg-type]
            poll=flag("rsvp.poll", True),
            poll_options=v.get("rsvp.poll_options", DEFAULT_POLL_OPTIONS),  # type: ignore[arg-type]
        ),
    )
