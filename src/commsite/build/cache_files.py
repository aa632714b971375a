"""The build cache's folder and files as files: made whatever is in their place.

The folder may come from a CI cache (a tar archive: it can hold links and
folders where files belong). Nothing here writes through a link: a link, a
folder or a file in the wrong place is removed and made again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["COMPILED", "LAST_BUILD", "delete_db", "own_folder", "remove", "write_last_build"]

LAST_BUILD = "last-build.json"
COMPILED = "compiled-templates"  # (template_cache.py)


def write_last_build(directory: Path, summary: Mapping[str, Any]) -> None:
    """The JSON record of the last build (what was rendered, written, removed).
    Only written: no build reads it."""
    own_folder(directory)
    target = directory / LAST_BUILD
    tmp = target.with_name(f".{LAST_BUILD}.{os.getpid()}")
    remove(tmp)  # (a link left there is replaced, never written through)
    tmp.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)  # (a folder in its place: the cache folder is ours)
    os.replace(tmp, target)


def own_folder(directory: Path) -> None:
    """Make the cache folder, and its .gitignore, whatever is in their place."""
    if directory.exists() and not directory.is_dir():
        directory.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    ignore = directory / ".gitignore"
    try:
        if not ignore.is_symlink() and ignore.read_bytes() == b"*\n":
            return
    except FileNotFoundError:
        pass
    except OSError:  # a folder in its place, say
        pass
    remove(ignore)  # (a link is replaced, never written through)
    ignore.write_text("*\n", encoding="utf-8")


def remove(path: Path) -> None:
    """Delete a file or folder of the cache, if there (a link itself, not its target)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def delete_db(path: Path) -> bool:
    """Delete the database and its journal files; whether that worked."""
    try:
        for suffix in ("", "-wal", "-shm", "-journal"):
            remove(Path(f"{path}{suffix}"))
    except OSError:
        return False
    return True
