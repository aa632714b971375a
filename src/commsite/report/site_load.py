"""Load the site for a report: content/ as the build loads it, without the bodies.

The report reads front matter (titles, dates, authors, hosts, members) and
interactions/, never a story's text; rendering 2,000 stories' Markdown was
most of its time. So each content file but the rules is parsed with its body
cut off after the front matter (line numbers of front-matter problems stay
right); everything else is `load_site` as the build runs it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from commsite.content.frontmatter import split_front_matter
from commsite.content.loader import load_site
from commsite.content.model import Site
from commsite.content.parse import ParsedFile, parse_file
from commsite.content.textfile import decode_text
from commsite.errors import Diagnostic

__all__ = ["load_for_report", "parse_front_matter_only"]


def parse_front_matter_only(kind: str, path: str, data: bytes) -> ParsedFile:
    if kind == "rules":
        return parse_file(kind, path, data)
    text, _problem = decode_text(path, data)
    if text is not None:
        front, _ = split_front_matter(text, path)
        if front is not None:
            head = text.split("\n")[: front.body_line - 1]
            data = ("\n".join(head) + "\n").encode("utf-8")
    return parse_file(kind, path, data)


def load_for_report(root: Path, now: datetime) -> tuple[Site | None, list[Diagnostic]]:
    return load_site(root, now=now, parse=parse_front_matter_only)
