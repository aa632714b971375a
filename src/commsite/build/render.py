"""Writing the outputs a build must make into the staging directory: pages
rendered from their specs and documents made from their data, across processes
for big builds (a cold build writes thousands of federation documents too).
A cold build's pages are fingerprinted where they are rendered (see
build/page_outputs.py: `Unsealed`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

from commsite import urls
from commsite.build.document_batches import Batch
from commsite.build.output import FileState, write_staged
from commsite.build.page_outputs import Seal, Unsealed, seal
from commsite.build.parallel import can_fork, in_worker, map_in_processes
from commsite.errors import CommsiteError, Diagnostic
from commsite.render.pages import LazyContext, PageSpec
from commsite.render.renderer import Renderer

__all__ = [
    "PARALLEL_RENDER_MIN",
    "PARALLEL_RENDER_MIN_PICKLED",
    "Document",
    "Page",
    "Rendered",
    "render_pages",
]

# Below this many pages, render in this process. Measured on the 2-core machine:
# starting a 2-worker pool costs 10-15 ms for a small process and more for a big
# one (fork copies the page tables of a 1 GB parent), and a page takes 1-2 ms; a
# re-render of a few dozen pages gains nothing measurable from workers.
PARALLEL_RENDER_MIN = 150
# Beside other threads (`commsite serve`), workers come from the fork server and
# the pages are pickled to them: worth it for a theme or config edit, not a save.
PARALLEL_RENDER_MIN_PICKLED = 1000


class Document(Protocol):
    """An output made without a template (build.plan.Output is one)."""

    @property
    def path(self) -> str: ...

    def content(self) -> bytes: ...


# A page to render: its spec, or its spec and what fingerprints it (a cold build's).
Page = PageSpec | tuple[PageSpec, Unsealed]
# (file, state, None, what sealed it if unsealed) or (file, None, the error, None)
Made = tuple[str, FileState | None, Diagnostic | None, Seal | None]


@dataclass(frozen=True, slots=True)
class Rendered:
    states: dict[str, FileState]  # each file written
    problems: list[Diagnostic]
    sealed: dict[str, Seal]  # what sealed the unsealed pages (page_outputs.seal), by file


def _render_one(renderer: Renderer, staging: Path, item: Page | Document | Batch) -> list[Made]:
    if isinstance(item, tuple):
        spec, later = item
    elif isinstance(item, PageSpec):
        spec, later = item, None
    elif isinstance(item, Batch):
        return [(p, write_staged(staging / p, data), None, s) for p, data, s in item.made()]
    else:
        return [(item.path, write_staged(staging / item.path, item.content()), None, None)]
    path = urls.output_file(spec.path)
    try:
        data = renderer.render(spec)
    except CommsiteError as exc:
        problem = exc.diagnostics[0] if exc.diagnostics else Diagnostic(path, None, str(exc))
        return [(path, None, problem, None)]
    sealed = seal(spec, later) if later is not None else None
    if in_worker() and isinstance(spec.context, LazyContext):
        spec.context.release()  # (this process's copy: the planning process keeps its own)
    return [(path, write_staged(staging / path, data), None, sealed)]


def render_pages(
    renderer: Renderer,
    specs: Sequence[Page],
    staging: Path,
    *,
    jobs: int,
    progress: Callable[[str, int, int], None] | None = None,
    documents: Sequence[Document] = (),
    batches: Sequence[Batch] = (),
    meanwhile: Callable[[], None] | None = None,
) -> Rendered:
    """Render `specs` and write `documents` and `batches` into `staging`; the state
    of each file written, the errors, and what the seals of unsealed pages and
    batches found. Documents are made in the workers too: writing thousands of
    small files (each in a new folder) is I/O that two processes overlap, and a
    lazy document's bytes are made where they are written; a cold build's
    documents are made there (build/document_batches.py), the heavy batches first.
    `meanwhile` runs in this process while the workers render."""
    render = partial(_render_one, renderer, staging)
    rest: list[Page | Document | Batch] = [*batches, *specs, *documents]
    forks = can_fork()
    least = PARALLEL_RENDER_MIN if forks else PARALLEL_RENDER_MIN_PICKLED
    jobs = jobs if len(rest) >= least else 1
    if jobs > 1 and forks:
        # Compile each template in this process first, so forked workers inherit it
        # (compiled, not rendered: a first page may list 1,000 members). Alone, this
        # process compiles what it renders, and no more (an edit renders three pages).
        for name in dict.fromkeys((s[0] if isinstance(s, tuple) else s).template for s in specs):
            renderer.compile(name)
    files = [len(item.documents) if isinstance(item, Batch) else 1 for item in rest]
    results = map_in_processes(
        render,
        rest,
        jobs=jobs,
        progress=_stage(progress),
        meanwhile=meanwhile,
        portable=True,
        weights=files if batches else None,
    )
    done = Rendered({}, [], {})
    for made in results:
        for path, state, error, sealed in made:
            if state is not None:
                done.states[path] = state
                if sealed is not None:
                    done.sealed[path] = sealed
            elif error is not None:
                done.problems.append(error)
    return done


def _stage(
    progress: Callable[[str, int, int], None] | None,
) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress("rendering", done, total)
