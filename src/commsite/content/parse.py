"""One content file's bytes to checked front matter and rendered HTML.

Pure: the result depends only on (kind, path, data), so the build can cache it
keyed by (PARSER_VERSION, kind, path, sha256(data)). Everything that needs
other files or the config (references, slugs, time zones, static files)
happens later, in `loader.assemble_site`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from types import MappingProxyType

import markdown_it
import mdit_py_plugins
import pygments
import yaml

from commsite.content import fields as f
from commsite.content.frontmatter import split_front_matter
from commsite.content.model import EVENT_STATUSES
from commsite.content.textfile import decode_text
from commsite.errors import Diagnostic, Severity
from commsite.markdown import render_markdown

__all__ = ["KINDS", "PARSER_VERSION", "SCHEMAS", "ParsedFile", "parse_file"]

# Bump the first part when parse_file's output changes for the same input.
PARSER_VERSION = "4/" + "/".join(
    (markdown_it.__version__, mdit_py_plugins.__version__, pygments.__version__, yaml.__version__)
)

KINDS = ("story", "member", "event", "rules", "page")

# key -> (validator, required)
Schema = MappingProxyType[str, tuple[f.Validator, bool]]

SCHEMAS: dict[str, Schema] = {
    "story": MappingProxyType(
        {
            "title": (f.text, True),
            "date": (f.date_or_datetime, True),
            "authors": (f.text_list, False),
            "author": (f.text, False),
            "tags": (f.text_list, False),
            "summary": (f.text, False),
            "event": (f.text, False),
            "image": (f.static_path, False),
            "image_alt": (f.text, False),
            "slug": (f.slug, False),
            "draft": (f.boolean, False),
            "updated": (f.date_or_datetime, False),
        }
    ),
    "member": MappingProxyType(
        {
            "name": (f.text, True),
            "handle": (f.handle, False),
            "pronouns": (f.text, False),
            "interests": (f.text_list, False),
            "location": (f.text, False),
            "joined": (f.date_only, False),
            "roles": (f.text_list, False),
            "links": (f.links, False),
            "avatar": (f.static_path, False),
        }
    ),
    "event": MappingProxyType(
        {
            "title": (f.text, True),
            "start": (f.datetime_only, True),
            "end": (f.end_datetime, False),
            "location": (f.location, False),
            "online": (f.http_url, False),
            "hosts": (f.text_list, False),
            "capacity": (f.integer(1), False),
            "status": (f.choice(EVENT_STATUSES), False),
            "tags": (f.text_list, False),
            "summary": (f.text, False),
            "image": (f.static_path, False),
            "image_alt": (f.text, False),
            "slug": (f.slug, False),
        }
    ),
    "rules": MappingProxyType({"title": (f.text, True), "updated": (f.date_only, False)}),
    "page": MappingProxyType(
        {"title": (f.text, True), "summary": (f.text, False), "slug": (f.slug, False)}
    ),
}

_EXAMPLES = {
    "title": "title: Spring repair day",
    "name": "name: Ada Lovelace",
    "date": "date: 2026-10-01",
    "start": "start: 2026-03-14T10:00:00",
    "rules.title": "title: Our rules",
    "page.title": "title: About us",
}


@dataclass(frozen=True, slots=True)
class ParsedFile:
    kind: str
    path: str  # relative to the site root, forward slashes
    meta: dict[str, object]  # checked values; unknown and invalid keys left out
    key_lines: dict[str, int]
    body_html: str
    summary: str
    rule_items: tuple[str, ...]
    rule_start: int  # the number of the first rule as written (RenderedMarkdown.rule_start)
    diagnostics: tuple[Diagnostic, ...]
    ok: bool  # False when the file cannot be used (it has errors)
    # (address, line in the file, is an image) of each link and image in the
    # body, for the link checker (plain data: it is kept in the build cache).
    links: tuple[tuple[str, int, bool], ...] = ()

    def __reduce__(self) -> tuple[type[ParsedFile], tuple[object, ...]]:
        # Parse workers send every file to the parent pickled (the build cache
        # stores them as JSON: build/cache_data.py): through the constructor,
        # quicker than a slotted dataclass's __setstate__ (11,518 files:
        # 0.23-0.27 s -> 0.18-0.22 s, measured).
        return (
            ParsedFile,
            (
                self.kind,
                self.path,
                self.meta,
                self.key_lines,
                self.body_html,
                self.summary,
                self.rule_items,
                self.rule_start,
                self.diagnostics,
                self.ok,
                self.links,
            ),
        )


def _check_meta(
    kind: str, path: str, raw: dict[str, object], lines: dict[str, int]
) -> tuple[dict[str, object], list[Diagnostic]]:
    schema = SCHEMAS[kind]
    meta: dict[str, object] = {}
    problems: list[Diagnostic] = []
    for key, value in raw.items():
        line = lines.get(key, 1)
        spec = schema.get(key)
        if spec is None:
            problems.append(
                Diagnostic(
                    path,
                    line,
                    f"unknown key '{key}'",
                    Severity.WARNING,
                    f.did_you_mean(key, schema) or "known keys: " + ", ".join(schema),
                )
            )
            continue
        validator, required = spec
        if value is None and not required:
            continue  # an empty optional key counts as absent
        if required and (value is None or (isinstance(value, str) and not value.strip())):
            example = _EXAMPLES.get(f"{kind}.{key}") or _EXAMPLES.get(key, f"{key}: ...")
            problems.append(
                Diagnostic(path, line, f"'{key}' is empty", hint=f"give it a value: {example}")
            )
            continue
        try:
            meta[key] = validator(key, value)
        except f.Accepted as exc:  # taken, with a warning showing the canonical form
            meta[key] = exc.value
            problems.append(Diagnostic(path, line, exc.message, Severity.WARNING, exc.hint))
        except f.Invalid as exc:
            if exc.item is not None:
                line = lines.get(f"{key}[{exc.item}]", line)
            problems.append(Diagnostic(path, line, exc.message, hint=exc.hint))
    for key, (_, required) in schema.items():
        if required and key not in raw:
            example = _EXAMPLES.get(f"{kind}.{key}") or _EXAMPLES.get(key, f"{key}: ...")
            hint = f"add a line such as '{example}' to the front matter"
            line = 1
            misspelt = next((k for k in raw if k.strip().casefold() == key), None)
            if misspelt is not None:  # 'Title:' for 'title:'
                line = lines.get(misspelt, 1)
                hint = f"rename '{misspelt}' to '{key}' (keys are lowercase)"
            problems.append(Diagnostic(path, line, f"missing required key '{key}'", hint=hint))
    if kind == "event" and isinstance(meta.get("end"), time):
        _end_on_start_day(meta)
    if kind == "story" and "author" in raw and "authors" in raw:
        problems.append(
            Diagnostic(
                path,
                lines.get("author", 1),
                "both 'author' and 'authors' are given",
                hint="list everyone under 'authors' and remove 'author'",
            )
        )
    return meta, problems


def _end_on_start_day(meta: dict[str, object]) -> None:
    """`end: 17:00` is that time on the start's day, in the start's time zone (or
    the site's, when the start has no offset). Without a valid start there is
    nothing to combine with; the start's error is reported already."""
    end, start = meta.pop("end"), meta.get("start")
    if isinstance(end, time) and isinstance(start, datetime):
        meta["end"] = datetime.combine(start.date(), end, tzinfo=start.tzinfo)


def _missing_alt(
    path: str,
    meta: dict[str, object],
    key_lines: dict[str, int],
    body_line: int,
    body_images: tuple[int, ...],
) -> list[Diagnostic]:
    """A warning for an `image:` without `image_alt:`, and for each Markdown image
    in the body without alt text (`![](photo.jpg)`)."""
    found: list[Diagnostic] = []
    if "image" in meta and "image_alt" not in key_lines:
        found.append(
            Diagnostic(
                path,
                key_lines.get("image"),
                "the image has no description for people who cannot see it",
                Severity.WARNING,
                "add 'image_alt:' saying what the picture shows, e.g."
                " image_alt: Two people fixing a bicycle wheel",
            )
        )
    found.extend(
        Diagnostic(
            path,
            body_line + line,
            "an image without alt text",
            Severity.WARNING,
            "say what it shows between the brackets: ![Two people fixing a bicycle](photo.jpg)",
        )
        for line in body_images
    )
    return found


def parse_file(kind: str, path: str, data: bytes) -> ParsedFile:
    """Decode, split, check and render one content file. Never raises for bad content."""
    if kind not in SCHEMAS:
        raise ValueError(f"unknown content kind {kind!r}; expected one of {KINDS}")
    text, problem = decode_text(path, data)
    if text is None:
        return ParsedFile(kind, path, {}, {}, "", "", (), 1, (problem,) if problem else (), False)
    fm, problems = split_front_matter(text, path)
    if fm is None:
        return ParsedFile(kind, path, {}, {}, "", "", (), 1, tuple(problems), False)
    meta, more = _check_meta(kind, path, fm.meta, fm.key_lines)
    problems.extend(more)
    rendered = render_markdown(fm.body, rule_anchors=kind == "rules")
    if kind == "rules" and not rendered.rule_items:
        problems.append(
            Diagnostic(
                path,
                fm.body_line,
                "the rules have no numbered list",
                Severity.WARNING,
                "write the rules as a numbered list ('1. Be kind') so each gets its rule-N anchor",
            )
        )
    problems.extend(_missing_alt(path, meta, fm.key_lines, fm.body_line, rendered.missing_alt))
    summary = meta.get("summary")
    return ParsedFile(
        kind=kind,
        path=path,
        meta=meta,
        key_lines=fm.key_lines,
        body_html=rendered.html,
        summary=summary if isinstance(summary, str) else rendered.summary,
        rule_items=rendered.rule_items,
        rule_start=rendered.rule_start,
        diagnostics=tuple(problems),
        ok=not any(d.is_error for d in problems),
        links=tuple((url, fm.body_line + line, image) for url, line, image in rendered.links),
    )
