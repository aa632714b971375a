"""commsite.yaml to `SiteConfig`, collecting every problem with its line."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import yaml

import commsite.themes
from commsite.config import (
    DEFAULT_POLL_OPTIONS,
    DEFAULT_RSVP_WORDS,
    CommunityConfig,
    FederationConfig,
    ModerationConfig,
    RsvpConfig,
    SidecarConfig,
    SiteConfig,
)
from commsite.content import fields as f
from commsite.content.config_schema import SCHEMA, SECTIONS
from commsite.content.safe_files import admit, read_input, site_fence
from commsite.content.scaffold import STARTER_HOST
from commsite.content.textfile import decode_text
from commsite.content.yamltext import parse_yaml
from commsite.errors import Diagnostic, Severity

__all__ = ["CONFIG_FILE", "derive_handle", "load_config", "missing_config"]

CONFIG_FILE = "commsite.yaml"


def derive_handle(title: str) -> str:
    """The default community handle: the title in lowercase a-z, 0-9 and '_'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    handle = re.sub(r"[^a-z0-9_]+", "_", ascii_title.lower()).strip("_")
    return handle or "community"


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
        if key in SECTIONS:
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
    siblings += [s for s in SECTIONS if not section]
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
