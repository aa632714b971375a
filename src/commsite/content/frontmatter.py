"""Splitting a content file into its YAML front matter and Markdown body.

Line numbers are kept: `key_lines` gives the file line of every top-level key
and `body_line` the line the body starts on, so every message can point at
the line to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from commsite.content.yamltext import key_lines as _key_lines
from commsite.content.yamltext import parse_yaml
from commsite.errors import Diagnostic

__all__ = ["FrontMatter", "split_front_matter"]

_OPEN = re.compile(r"---[ \t]*(?:\n|\Z)")
_CLOSE = re.compile(r"^---[ \t]*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class FrontMatter:
    meta: dict[str, object]  # the YAML mapping
    key_lines: dict[str, int]  # 1-based file line of each top-level key, and "key[N]" items
    body: str
    body_line: int  # file line where the body starts


def _kind_of(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    return f"a {type(value).__name__}"


def split_front_matter(text: str, path: str) -> tuple[FrontMatter | None, list[Diagnostic]]:
    """Split `text` (with "\\n" line ends) into front matter and body.

    Returns None (and the reasons) when the file has no usable front matter.
    """
    opening = _OPEN.match(text)
    if opening is None and text.startswith("+++"):
        return None, [
            Diagnostic(
                path,
                1,
                "the front matter is TOML (+++); commsite reads YAML front matter",
                hint="write it between two '---' lines as 'key: value' lines"
                ' (title = "A" becomes title: "A")',
            )
        ]
    if opening is None and _OPEN.match(text.lstrip(" \t\n")):
        return None, [
            Diagnostic(
                path,
                1,
                "the front matter must start on the first line",
                hint="delete the empty lines above the first '---'",
            )
        ]
    if opening is None:
        return None, [
            Diagnostic(
                path,
                1,
                "the file does not start with front matter",
                hint="make the first line '---', then one 'key: value' a line,"
                " then a line '---', then the text",
            )
        ]
    closing = _CLOSE.search(text, opening.end())
    if closing is None:
        return None, [
            Diagnostic(
                path,
                1,
                "the front matter is not closed",
                hint="add a line '---' after the last key, before the text",
            )
        ]
    yaml_text = text[opening.end() : closing.start()]
    body_start = closing.end() + 1
    body_line = text.count("\n", 0, closing.start()) + 2
    doc, problem = parse_yaml(yaml_text, path, 2)
    if doc is None:
        return None, [problem] if problem else []
    if doc.data is None:
        meta: dict[str, object] = {}
    elif isinstance(doc.data, dict):
        meta = {str(k): v for k, v in doc.data.items()}
    else:
        return None, [
            Diagnostic(
                path,
                2,
                f"the front matter must be keys and values (got {_kind_of(doc.data)})",
                hint="write one 'key: value' a line, e.g. 'title: Spring repair day'",
            )
        ]
    lines, problems = _key_lines(doc.node, path, 2)
    return FrontMatter(meta, lines, text[body_start:], body_line), problems
