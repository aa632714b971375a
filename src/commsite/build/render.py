"""Writing the outputs a build must make into the staging directory: pages
rendered from their specs and documents made from their data, across processes
for big builds (a cold build writes thousands of federation documents too)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from commsite import urls
from commsite.build.output import FileState, write_staged
from commsite.build.parallel import map_in_processes
from commsite.errors import CommsiteError, Diagnostic
from commsite.render.pages import PageSpec
from commsite.render.renderer import Renderer

__all__ = ["PARALLEL_RENDER_MIN", "Document", "render_pages"]

# Below this many pages, render in this process. Measured on the 2-core machine:
# starting a 2-worker pool costs 10-15 ms for a small process and more for a big
# one (fork copies the page tables of a 1 GB parent), and a page takes 1-2 ms; a
# re-render of a few dozen pages gains nothing measurable from workers.
PARALLEL_RENDER_MIN = 150

_DIAGNOSTIC = re.compile(r"^(?P<path>[^\n]+?)(?::(?P<line>\d+))?: error: (?P<message>.*)$", re.S)


class Document(Protocol):
    """An output made without a template (build.plan.Output is one)."""

    @property
    def path(self) -> str: ...

    def content(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class _Job:
    renderer: Renderer
    staging: Path


_JOB: _Job | None = None


def _render_one(item: PageSpec | Document) -> tuple[str, FileState | None, str | None]:
    """(output file, its state, None) or (output file, None, error message)."""
    assert _JOB is not None
    if not isinstance(item, PageSpec):
        return _write(item.path, item.content())
    path = urls.output_file(item.path)
    try:
        data = _JOB.renderer.render(item)
    except CommsiteError as exc:
        return path, None, str(exc)
    return _write(path, data)


def _write(path: str, data: bytes) -> tuple[str, FileState, None]:
    assert _JOB is not None
    return path, write_staged(_JOB.staging / path, data), None


def render_pages(
    renderer: Renderer,
    specs: Sequence[PageSpec],
    staging: Path,
    *,
    jobs: int,
    progress: Callable[[str, int, int], None] | None = None,
    documents: Sequence[Document] = (),
    meanwhile: Callable[[], None] | None = None,
) -> tuple[dict[str, FileState], list[Diagnostic]]:
    """Render `specs` and write `documents` into `staging`; the state of each file
    written, and the errors. Documents are made in the workers too: writing
    thousands of small files (each in a new folder) is I/O that two processes
    overlap, and a lazy document's bytes are made where they are written.
    `meanwhile` runs in this process while the workers render."""
    global _JOB
    _JOB = _Job(renderer, staging)
    try:
        # Compile each template in this process first, so forked workers inherit it.
        first: dict[str, int] = {}
        for n, spec in enumerate(specs):
            first.setdefault(spec.template, n)
        warm_indices = set(first.values())
        warm = [specs[n] for n in sorted(warm_indices)]
        rest: list[PageSpec | Document] = [s for n, s in enumerate(specs) if n not in warm_indices]
        rest += documents
        results = [_render_one(spec) for spec in warm]
        results += map_in_processes(
            _render_one,
            rest,
            jobs=jobs if len(rest) >= PARALLEL_RENDER_MIN else 1,
            progress=_offset(progress, len(warm)),
            meanwhile=meanwhile,
        )
    finally:
        _JOB = None
    states: dict[str, FileState] = {}
    problems: list[Diagnostic] = []
    for path, state, error in results:
        if state is not None:
            states[path] = state
        elif error is not None:
            problems.append(_diagnostic(path, error))
    return states, problems


def _offset(
    progress: Callable[[str, int, int], None] | None, already: int
) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress("rendering", done + already, total + already)


def _diagnostic(path: str, error: str) -> Diagnostic:
    match = _DIAGNOSTIC.match(error)
    if match:
        line = int(match["line"]) if match["line"] else None
        return Diagnostic(match["path"], line, match["message"])
    return Diagnostic(path, None, error.removeprefix(f"{path}: error: "))
