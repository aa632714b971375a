"""commsite.yaml's keys, and how the value of each is checked: the schema the
loader (config_loader.py) reads the file against. A validator takes the
dotted key and the YAML value and returns the value to keep, or raises
`fields.Invalid` with a message and a hint."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from commsite.config import (
    ACTOR_TYPES,
    APPROVE_POLICIES,
    DEFAULT_POLL_OPTIONS,
    DEFAULT_RSVP_WORDS,
    OBJECT_TYPES,
    is_postgres_url,
)
from commsite.content import fields as f
from commsite.content.model import RSVP_ANSWERS
from commsite.content.zones import zone_hint

__all__ = ["SCHEMA", "SECTIONS"]

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


SECTIONS = ("community", "federation", "moderation", "sidecar", "rsvp")

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
