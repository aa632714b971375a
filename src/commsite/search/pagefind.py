"""Running Pagefind over a folder of built pages.

Pagefind (a Rust program, shipped in the `pagefind-bin` wheel) reads HTML and
writes a static search bundle that the browser queries by fetching small
compressed chunks: search works on any static host. It needs the pages as
files in one folder: `index_pages` hard-links them into a scratch folder
(cheap: no bytes are copied), runs the program, and makes its bundle the same
bytes for the same pages (bundle.py). The build decides when to index and
stages the bundle with the rest of the site (build/search.py).

Pagefind's Python API (the `pagefind` package) is not used: it waits 0.1 s per
reply from the program (200 s for 2,000 pages) and its way of returning files
in memory may deadlock on large sites; the command line does the same work in
one run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from commsite.errors import Diagnostic, Severity
from commsite.search.bundle import canonical_bundle
from commsite.search.tool import BINARY_ENV, pagefind_binary

__all__ = ["INDEXED_TEMPLATES", "find_pagefind", "index_pages"]

# The pages whose text is searchable; their templates mark the part to index
# (data-pagefind-body) and the filters. Lists and indexes are left out, so each
# result is one story, event or member.
INDEXED_TEMPLATES = frozenset({"story.html", "event.html", "member.html"})
TIMEOUT = 600  # seconds: Pagefind indexes thousands of pages a second
INSTALL_HINT = (
    "install it with `pip install pagefind-bin` (commsite's install brings it;"
    f" or name the program in {BINARY_ENV}), or set `search: false` in commsite.yaml"
)


def find_pagefind() -> Path | Diagnostic:
    """The Pagefind program, or a warning saying how to get it."""
    binary = pagefind_binary()
    if binary is not None and binary.is_file():
        return binary
    what = "is not installed" if binary is None else f"is not at {binary}"
    return Diagnostic(
        "commsite.yaml",
        None,
        f"search is on but the Pagefind program {what}; the site is built without its search index",
        Severity.WARNING,
        INSTALL_HINT,
    )


def index_pages(
    binary: Path, pages: Iterable[tuple[str, Path]], scratch: Path
) -> Diagnostic | None:
    """Index `pages` ((path in the site, the file)) with Pagefind into
    `scratch`/bundle (canonical); a warning when Pagefind failed. `scratch` is
    made afresh; the caller removes it."""
    if os.path.lexists(scratch):
        shutil.rmtree(scratch)
    site, bundle = scratch / "site", scratch / "bundle"
    site.mkdir(parents=True)
    for path, source in pages:
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    problem = _run_pagefind(binary, site, bundle)
    if problem is None:
        canonical_bundle(bundle)  # (the same pages give the same bytes)
    return problem


def _run_pagefind(binary: Path, site: Path, bundle: Path) -> Diagnostic | None:
    """Run Pagefind; a Diagnostic (warning) when it failed."""
    command = [str(binary), "--site", str(site), "--output-path", str(bundle), "--silent"]
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _failed(f"it did not finish in {TIMEOUT} s")
    except OSError as exc:
        return _failed(str(exc))
    if done.returncode != 0 or not (bundle / "pagefind.js").is_file():
        said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        why = said[-1] if said else f"exit status {done.returncode}"
        return _failed("".join(c if c.isprintable() else "?" for c in why)[:300])
    return None


def _failed(why: str) -> Diagnostic:
    return Diagnostic(
        "commsite.yaml",
        None,
        f"the search index could not be made: Pagefind failed ({why}); the site is built"
        " without it",
        Severity.WARNING,
        INSTALL_HINT.replace("install it with", "reinstall Pagefind with"),
    )
