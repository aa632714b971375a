"""Where a site's content files are, and what under content/ is not read.

The folders under content/ give each file its kind; anything else there (a
misspelt folder, an image beside the stories) is most likely a mistake, and
`layout_warnings` says so.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from commsite.content import fields as f
from commsite.content.safe_files import list_files, site_fence
from commsite.errors import Diagnostic, Severity

__all__ = [
    "CONTENT_DIRS",
    "RULES_FILE",
    "discover",
    "file_stem",
    "folder_entries",
    "layout_warnings",
]

# folder under content/ -> kind of each .md file in it
CONTENT_DIRS = {"stories": "story", "members": "member", "events": "event", "pages": "page"}
RULES_FILE = "content/rules.md"


def discover(root: Path, admitted: Collection[str] | None = None) -> list[tuple[str, str]]:
    """(kind, path relative to root) of every content file, sorted by path.

    `admitted`: the site's input files a build may read (the input scan's, or
    `safe_files.check_inputs`'s); by default those `list_files` finds under
    content/. A link the fence refuses, or a FIFO, is never a content file.
    """
    if admitted is None:
        listing = list_files(site_fence(root), root / "content", "content/")
        admitted = [key for key, _ in listing.files]
    found: list[tuple[str, str]] = []
    for key in admitted:
        if not key.startswith("content/"):
            continue
        parts = key.split("/")
        if len(parts) == 3 and parts[1] in CONTENT_DIRS:
            name = parts[2]
            if name.endswith(".md") and not name.startswith("."):
                found.append((CONTENT_DIRS[parts[1]], key))
        elif key == RULES_FILE:
            found.append(("rules", key))
    found.sort(key=lambda item: item[1])
    return found


def folder_entries(directory: Path) -> list[os.DirEntry[str]]:
    """The entries of `directory`, sorted by name (none if it is not a readable folder).
    DirEntry knows whether it is a file or a folder without another system call."""
    try:
        with os.scandir(directory) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []


def layout_warnings(root: Path) -> list[Diagnostic]:
    """Files and folders under content/ that are not read, most likely by mistake."""
    content = root / "content"
    problems: list[Diagnostic] = []
    site = os.path.realpath(root)
    if not _inside(site, content):  # a link out: safe_files reports it; list nothing there
        return problems
    for entry in folder_entries(content):
        name = entry.name
        if name.startswith(".") or (entry.is_symlink() and not _inside(site, entry.path)):
            continue
        rel = f"content/{name}"
        if entry.is_dir():
            if name not in CONTENT_DIRS:
                hint = f.did_you_mean(name, CONTENT_DIRS) or "use " + ", ".join(CONTENT_DIRS)
                problems.append(
                    Diagnostic(rel, None, f"folder '{name}' is not read", Severity.WARNING, hint)
                )
                continue
            for file in folder_entries(Path(entry.path)):
                if file.name.startswith(".") or _editor_litter(file.name):
                    continue
                if file.is_dir():
                    message = "folders in here are not read"
                    hint = f"move the .md files up into {rel}/"
                elif os.path.splitext(file.name)[1] != ".md":
                    message = "this file is not read (only .md files are)"
                    hint = "rename it to .md, or move images and other files to static/"
                else:
                    continue
                problems.append(
                    Diagnostic(f"{rel}/{file.name}", None, message, Severity.WARNING, hint)
                )
        elif name != "rules.md":
            hint = (
                f"move it to content/pages/{name} to make it a page"
                if os.path.splitext(name)[1] == ".md"
                else "move it to static/ or into one of the content folders"
            )
            problems.append(Diagnostic(rel, None, "this file is not read", Severity.WARNING, hint))
    return problems


def _inside(site: str, path: str | Path) -> bool:
    real = os.path.realpath(path)
    return real == site or real.startswith(site.rstrip(os.sep) + os.sep)


def _editor_litter(name: str) -> bool:
    """Backup and lock files editors leave next to what they edit (about.md~, #about.md#)."""
    return name.endswith("~") or name.startswith("#") or name in ("Thumbs.db", "desktop.ini")


def file_stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".md")
