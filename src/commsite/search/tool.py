"""Finding the Pagefind program the search index is made with (search/pagefind.py).

Kept apart, with no heavy imports, because the no-change check of every build
(build.run) asks which program it is: installing, upgrading or removing
Pagefind must make the search index again even when no content changed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

__all__ = ["BINARY_ENV", "pagefind_binary", "tool_identity"]

# Environment variable naming the Pagefind program to use (as Pagefind's own
# Python package reads it).
BINARY_ENV = "PAGEFIND_BINARY_PATH"
# The program's wheels, extended (with Chinese and Japanese word splitting) first.
_WHEELS = (("pagefind_bin_extended", "pagefind_extended"), ("pagefind_bin", "pagefind"))


def pagefind_binary() -> Path | None:
    """The Pagefind program: $PAGEFIND_BINARY_PATH, else the one in the
    pagefind-bin-extended or pagefind-bin wheel, else `pagefind` on PATH.
    Found without importing anything (run.py's no-change check calls it)."""
    named = os.environ.get(BINARY_ENV)
    if named:
        return Path(named)
    for package, program in _WHEELS:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            for name in (program, program + ".exe"):
                candidate = Path(folder) / name
                if candidate.is_file():
                    return candidate
    found = shutil.which("pagefind_extended") or shutil.which("pagefind")
    return Path(found) if found else None


def tool_identity() -> str:
    """Which Pagefind program a build would run (path, size, mtime), "" for none:
    part of the no-change check's key and of the index key, so installing,
    upgrading or removing it makes the index again."""
    binary = pagefind_binary()
    if binary is None:
        return ""
    try:
        st = binary.stat()
    except OSError:
        return f"{binary}:missing"
    return f"{binary}:{st.st_size}:{st.st_mtime_ns}"
