"""Rendering pages into the staging directory, across processes for big builds."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from commsite import urls
from commsite.build.output import FileState, file_digest
from commsite.build.parallel import map_in_processes
from commsite.errors import CommsiteError, Diagnostic
from commsite.render.pages import PageSpec
from commsite.render.renderer import Renderer

__all__ = ["PARALLEL_RENDER_MIN", "render_pages"]

# Below this many pages, render in this process. Measured on the 2-core machine:
# starting a 2-worker pool costs 10-15 ms for a small process and more for a big
# one (fork copies the page tables of a 1 GB parent), and a page takes 1-2 ms; a
# re-render of a few dozen pages gains nothing measurable from workers.
PARALLEL_RENDER_MIN = 150

_DIAGNOSTIC = re.compile(r"^(?P<path>[^\n]+?)(?::(?P<line>\d+))?: error: (?P<message>.*)$", re.S)


@dataclass(frozen=True, slots=True)
class _Job:
    renderer: Renderer
    staging: Path


_JOB: _Job | None = None


def _render_one(spec: PageSpec) -> tuple[str, FileState | None, str | None]:
    """(output file, its state, None) or (output file, None, error message)."""
    assert _JOB is not None
    path = urls.output_file(spec.path)
    try:
        data = _JOB.renderer.render(spec)
    except CommsiteError as exc:
        return path, None, str(exc)
    target = _JOB.staging / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return path, FileState(file_digest(data), len(data), 0), None


def render_pages(
    renderer: Renderer,
    specs: Sequence[PageSpec],
    staging: Path,
    *,
    jobs: int,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[dict[str, FileState], list[Diagnostic]]:
    """Render `specs` into `staging`; the state of each file written, and the errors."""
    global _JOB
    _JOB = _Job(renderer, staging)
    try:
        # Compile each template in this process first, so forked workers inherit it.
        first: dict[str, int] = {}
        for n, spec in enumerate(specs):
            first.setdefault(spec.template, n)
        warm_indices = set(first.values())
        warm = [specs[n] for n in sorted(warm_indices)]
        rest = [s for n, s in enumerate(specs) if n not in warm_indices]
        results = [_render_one(spec) for spec in warm]
        results += map_in_processes(
            _render_one,
            rest,
            jobs=jobs if len(rest) >= PARALLEL_RENDER_MIN else 1,
            progress=_offset(progress, len(warm)),
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
