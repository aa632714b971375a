"""A cold build fingerprints its pages where they are rendered (build/page_outputs.py:
`Unsealed`, `seal`, `sealed`), and makes its documents there (build/document_reads.py:
`Batch`): its output and its record must be exactly those of
a build whose planning process made every page's context, so that the next
build, in a new process or in the same builder, makes exactly what it would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from commsite.build import page_outputs, parallel, writing
from commsite.build import plan as build_plan
from commsite.build import render as build_render
from commsite.build.cache import BuildCache, RecordEntry
from commsite.build.page_outputs import Output
from commsite.build.run import Builder, BuildOptions, build_site
from commsite.render.pages import LazyContext
from golden.regenerate import SITE, golden_now

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="needs fork")


def _site(where: Path) -> Path:
    root = where / "site"
    shutil.copytree(SITE, root)
    # (with search on, the search step needs the fingerprints before rendering)
    with (root / "commsite.yaml").open("a", encoding="utf-8") as config:
        config.write("search: false\n")
    return root


def _record(root: Path) -> dict[str, RecordEntry]:
    cache = BuildCache.open(root / ".commsite" / "build-cache", root / "public")
    try:
        record = cache.get_record()
    finally:
        cache.close()
    assert record is not None
    return record


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _unsealed(monkeypatch: pytest.MonkeyPatch, on: bool) -> list[int]:
    """Count the pages and documents sealed in the render step; `on` False: plan as
    a build with a record does (every context made, every document made, while
    planning)."""
    sealed: list[int] = []
    render_pages = build_render.render_pages

    def counting(*args: object, **options: object) -> build_render.Rendered:
        done = render_pages(*args, **options)  # type: ignore[arg-type]
        sealed.extend([1] * len(done.sealed))
        return done

    monkeypatch.setattr(writing, "render_pages", counting)
    monkeypatch.setattr(page_outputs, "can_fork", lambda: on and parallel.can_fork())
    monkeypatch.setattr(build_plan, "can_fork", lambda: on and parallel.can_fork())
    return sealed


def _as_if_made(builder: Builder) -> None:
    """What the builder keeps for its next plan is as if every page had been made
    while planning: each recording page knows its reads (else the next plan makes
    it again to learn them), and the memo's outputs have their fingerprints."""
    memo = builder.kept.memo
    assert memo is not None
    contexts = [spec.context for _, spec in memo.pages.keys().values()]
    recording = [c for c in contexts if isinstance(c, LazyContext) and c.recording]
    assert recording and all(c.reads is not None for c in recording)
    outputs = [kept[2] for kept in memo.outputs.values()]
    assert outputs and all(
        isinstance(o, Output) and o.unsealed is None and o.fingerprint for o in outputs
    )


def _edit(root: Path) -> None:
    story = sorted((root / "content" / "stories").glob("*.md"))[0]
    story.write_text(story.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_cold_build_records_what_planning_every_page_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    monkeypatch.setattr(build_render, "PARALLEL_RENDER_MIN", 1)  # (workers even here)
    planned, sealed = _site(tmp_path / "planned"), _site(tmp_path / "sealed")
    off = _unsealed(monkeypatch, False)
    assert build_site(BuildOptions(root=planned, jobs=jobs), now=golden_now()).ok
    assert off == []
    on = _unsealed(monkeypatch, True)
    assert build_site(BuildOptions(root=sealed, jobs=jobs), now=golden_now()).ok
    assert len(on) > 20  # (every page, those rendered in workers too)
    assert _tree(sealed / "public") == _tree(planned / "public")
    theirs, ours = _record(planned), _record(sealed)
    assert ours.keys() == theirs.keys()
    differ = [p for p in ours if (ours[p].fingerprint, ours[p].inputs, ours[p].sources)
              != (theirs[p].fingerprint, theirs[p].inputs, theirs[p].sources)]  # fmt: skip
    assert differ == []
    assert all(e.fingerprint for e in ours.values())


def test_after_a_cold_build_an_edit_makes_what_it_would_have(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a new process (a fresh builder on the cache) and in the same builder
    (serve's, whose next plan asks the pages' reads of the new site)."""
    monkeypatch.setattr(build_render, "PARALLEL_RENDER_MIN", 1)
    made: dict[tuple[bool, str], tuple[str, ...]] = {}
    for on in (False, True):
        root = _site(tmp_path / str(on))
        sealed = _unsealed(monkeypatch, on)
        with Builder(BuildOptions(root=root, jobs=2)) as builder:
            assert builder.build(now=golden_now()).ok
            assert bool(sealed) is on
            _as_if_made(builder)
            _edit(root)
            again = builder.build(now=golden_now())
            assert again.ok
            made[on, "builder"] = tuple(sorted(again.rendered))
        _edit(root)
        fresh = build_site(BuildOptions(root=root, jobs=2), now=golden_now())
        assert fresh.ok
        made[on, "new process"] = tuple(sorted(fresh.rendered))
    assert made[True, "builder"] == made[False, "builder"]
    assert made[True, "new process"] == made[False, "new process"]
    assert 0 < len(made[True, "builder"]) < 30  # (the story's page and what lists it)
