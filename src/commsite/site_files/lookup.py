"""Serving the built tree: which file a URL path names, its Content-Type and headers.

Shared by the live preview (`commsite serve`) and the sidecar's
`--serve-site`, so both map URLs to files, refuse paths outside the output
folder and the private ones (the deploy configs), and label files the same
way, from the table (site_files.table) that the deploy configs for nginx,
Caddy and Netlify are written from. Only reads; the build writes the tree.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from commsite import urls
from commsite.site_files.table import content_type_for, is_private, rule_for

__all__ = [
    "content_type",
    "extra_headers",
    "not_found_body",
    "resolve",
    "slash_location",
    "wants_slash",
]

FALLBACK_NOT_FOUND = b"<h1>Not found</h1>"
_TEXTUAL = ("application/javascript", "image/svg+xml")


def resolve(root: Path, url_path: str) -> Path | None:
    """The file `url_path` (already unquoted, relative to the site's base,
    leading slash optional) names inside `root`, or None. Never a path
    outside root, never a private one (judged by where the path leads, so
    `/stories/../_headers` and `/%5Fdeploy/` are refused too); a folder is its
    index.html, but only when asked for with a trailing slash (or as the root
    itself)."""
    base = root.resolve()
    rel = url_path.lstrip("/")
    if "\x00" in rel:
        return None
    try:
        candidate = (base / rel).resolve()
        if candidate != base and base not in candidate.parents:
            return None
        if candidate.is_dir():
            if rel and not rel.endswith("/"):
                return None
            candidate = candidate / "index.html"
        if not candidate.is_file() or is_private(candidate.relative_to(base).as_posix()):
            return None
        return candidate
    except OSError:  # a name too long for the file system (ENAMETOOLONG): no such file
        return None


def wants_slash(root: Path, url_path: str) -> bool:
    """True when `url_path` names a folder without its trailing slash, so the
    server should redirect to `url_path + "/"`."""
    rel = url_path.lstrip("/")
    return bool(rel) and not rel.endswith("/") and resolve(root, rel + "/") is not None


def slash_location(base_path: str, url_path: str) -> str:
    """Where a folder asked for without its slash redirects: `base_path` +
    `url_path` + "/", with url_path's leading slashes dropped, so that a
    request for `//evil.example` (a folder of that name) is never sent on to
    the protocol-relative, other-site `//evil.example/`."""
    return base_path + url_path.lstrip("/") + "/"


def content_type(root: Path, file: Path, *, federation: bool = True) -> str:
    """The Content-Type for `file` inside `root`: the served files table first
    (extensionless actor, WebFinger, feeds), then the extension, with UTF-8
    for text."""
    rel = file.resolve().relative_to(root.resolve()).as_posix()
    known = content_type_for(rel, federation=federation)
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(file.name)
    if guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/") or guessed in _TEXTUAL:
        return f"{guessed}; charset=utf-8"
    return guessed


def extra_headers(
    root: Path, file: Path, *, federation: bool = True
) -> tuple[tuple[str, str], ...]:
    """The headers the table sends with `file` besides its Content-Type (CORS
    on the federation documents)."""
    rel = file.resolve().relative_to(root.resolve()).as_posix()
    rule = rule_for(rel, federation=federation)
    return rule.headers if rule is not None else ()


def not_found_body(root: Path) -> bytes:
    """The built 404 page, or a one-line stand-in before the first build."""
    page = root / urls.NOT_FOUND
    return page.read_bytes() if page.is_file() else FALLBACK_NOT_FOUND
