"""Incremental equals clean, always: a randomised differential test.

A seeded sequence of edits of every kind the content contract allows (stories,
members, events, rules, pages, commsite.yaml, theme templates and CSS, static
files, interactions, touching a file, the clock passing an event's start or a
story's date; see differential_content_edits.py and differential_edits.py) is
applied to a small site (differential_site.py); now and then a step makes
several edits at once (a `git pull`). After each step three builds must agree,
byte for byte over the whole output tree and line for line in their diagnostics:

(a) a clean build: a fresh output folder, no build cache;
(b) `commsite build` as a person runs it: the site's own output folder and build
    cache, kept from step to step. Every fourth step (and the first) runs it as
    a new process; the others call `build_site` in this process, which makes a
    fresh Builder with nothing in memory (the in-process caches left are pure
    functions' lru_caches), so it reads the same cache the process would;
(c) the long-lived `Builder` that `commsite serve` keeps: one object for the
    whole sequence, configured as serve configures it (its own output folder
    under .commsite/, the site's build cache shared with (b), owned output),
    told of each edit as serve's watcher tells it (the changed files, trusted),
    then asked for what the watcher missed, as serve asks (nothing, since the
    watcher here misses nothing). Now and then serve "restarts": a new Builder,
    a first build and serve's warm-up build. (serve also gives its own address
    as base_url: left out, so that all three build the same site; edits of
    base_url in commsite.yaml cover what it changes.)

The one difference allowed is the one serve promises (build.search, `keep_stale`):
while you edit, serve keeps the search index its Builder made at its first
successful build. So serve's `pagefind/` must be either a clean build's or the one
it had before the step; its first successful build after a start must match a
clean build's in full; and a failed build must leave the preview exactly as it
was, its old index included (a restart whose first build fails shows the last
session's preview until the site is fixed).

Odd seeds build with drafts and future stories (as serve shows them), even
seeds without (as `commsite build` publishes). The clock is SOURCE_DATE_EPOCH,
set in the environment each step, so all three read the same "now" as serve and
the CLI do. An invalid edit (a broken file) must fail all three with the same
diagnostics and leave both outputs untouched; the next step puts the file back
(and edits something else), and the builds must converge again.

The test talks only to public entry points (the CLI, `build_site`, `Builder`),
never to the engine's memos, so it guards any engine that builds this site.
A divergence fails with the seed, the step, the edit and a short diff.

    COMMSITE_DIFF_SEEDS=200 COMMSITE_DIFF_STEPS=40 pytest tests/test_incremental_differential.py
    COMMSITE_DIFF_SEED=17 COMMSITE_DIFF_SEEDS=1 pytest ...   # replay seed 17 alone
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from commsite.build.run import Builder, BuildOptions, BuildResult, build_site
from commsite.cli.build_cmd import left_out_line
from commsite.serve.changes import is_relevant
from commsite.serve.watch import SiteWatcher
from differential_edits import random_edit
from differential_site import FixtureSite, make_site

FIRST_SEED = int(os.environ.get("COMMSITE_DIFF_SEED", "1"))
SEEDS = int(os.environ.get("COMMSITE_DIFF_SEEDS", "3"))
STEPS = int(os.environ.get("COMMSITE_DIFF_STEPS", "12"))
NEW_PROCESS_EVERY = 4  # steps; the others build in this process with a fresh Builder
SERVE_RESTARTS = 0.05  # the share of steps after which serve starts again
SEVERAL_EDITS = 0.1  # the share of steps that make several edits before building
NOT_INPUTS = ("public", ".commsite")


@dataclass(frozen=True)
class Outcome:
    """What a build left: whether it succeeded, its diagnostics, the output tree."""

    ok: bool
    diagnostics: tuple[str, ...]  # and the "Left out: ..." line, when there is one
    tree: dict[str, bytes]


def tree(root: Path) -> dict[str, bytes]:
    """Every file of an output folder by its path in it (through links: a writer may
    switch the folder by a link), with its bytes."""
    found = {}
    for folder, _, names in os.walk(root, followlinks=True):
        for name in names:
            path = Path(folder, name)
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def inputs(root: Path) -> dict[Path, tuple[int, bytes] | None]:
    """Every file of the site and of the theme next to it, with its modification time
    and bytes, and every folder (what a file watcher notices: files written, and
    files and folders made or removed)."""
    found: dict[Path, tuple[int, bytes] | None] = {}
    for folder in (root, root.parent / "outside-theme"):
        for p in folder.rglob("*"):
            if p.relative_to(folder).parts[0] in NOT_INPUTS:
                continue
            found[p] = (p.stat().st_mtime_ns, p.read_bytes()) if p.is_file() else None
    return found


def formatted(result: BuildResult) -> tuple[str, ...]:
    left_out = (left_out_line(result.left_out),) if result.ok and result.left_out else ()
    return (*(d.format() for d in result.diagnostics), *left_out)


class Differential:
    """One seed's sequence: the site, its edits so far and the long-lived builder."""

    def __init__(self, seed: int, tmp: Path) -> None:
        self.seed = seed
        self.site: FixtureSite = make_site(tmp / "site", seed)
        self.root = self.site.root
        self.clean_dir = tmp / "clean"
        self.preview = seed % 2 == 1  # drafts and future stories, as serve shows them
        self.history: list[str] = []
        self.last_good: dict[str, bytes] = {}  # the clean output of the last valid site
        self.builder: Builder | None = None
        self.indexed = False  # serve's Builder made its search index (a successful build)
        # serve's watcher, not started: what it would report is the changed files
        # under the folders it watches (the site's, and those the builds name).
        self.watcher = SiteWatcher(self.root, lambda paths: None)

    # --- the three builds ----------------------------------------------------------

    def options(self, **more: object) -> BuildOptions:
        return BuildOptions(root=self.root, drafts=self.preview, future=self.preview, **more)  # type: ignore[arg-type]

    def clean(self) -> Outcome:
        shutil.rmtree(self.clean_dir, ignore_errors=True)
        result = build_site(self.options(output=self.clean_dir, cache=False, jobs=1))
        return Outcome(result.ok, formatted(result), tree(self.clean_dir))

    def fresh(self, new_process: bool) -> Outcome:
        if not new_process:
            result = build_site(self.options(jobs=1))
            return Outcome(result.ok, formatted(result), tree(self.root / "public"))
        flags = ["--drafts", "--future"] if self.preview else []
        done = subprocess.run(
            [sys.executable, "-m", "commsite", "build", ".", *flags],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return Outcome(
            done.returncode == 0, _cli_diagnostics(done.stderr), tree(self.root / "public")
        )

    @property
    def preview_dir(self) -> Path:
        return self.root / ".commsite" / "preview"

    def start_serve(self) -> list[tuple[str, Outcome]]:
        """A new Builder as serve makes one: a first build, then serve's warm-up (a
        full build that should find nothing to write) when the first one loaded
        nothing."""
        if self.builder is not None:
            self.builder.close()
        self.builder = Builder(self.options(output=self.preview_dir, owned_output=True))
        self.indexed = False
        result = self.builder.build()
        self.watcher.watch_outside(self.builder.outside_dirs())
        found = [
            ("serve's first build", Outcome(result.ok, formatted(result), tree(self.preview_dir)))
        ]
        if not self.builder.warm:
            result = self.builder.build(full=True)
            outcome = Outcome(result.ok, formatted(result), tree(self.preview_dir))
            found.append(("serve's warm-up", outcome))
        return found

    def served(self, changed: Sequence[Path]) -> tuple[Outcome, list[Path]]:
        """serve's rebuild for what its watcher saw (the changed files it watches,
        see serve.watch), and what the scan for missed changes then finds (serve
        builds again for it: the watcher here misses nothing, so it must be none)."""
        assert self.builder is not None
        seen = [p for p in changed if is_relevant(self.watcher.root, p, self.watcher.outside)]
        result = self.builder.build(seen, trusted=True)
        self.watcher.watch_outside(self.builder.outside_dirs())
        outcome = Outcome(result.ok, formatted(result), tree(self.preview_dir))
        return outcome, self.builder.missed_changes()

    # --- a step ----------------------------------------------------------------------

    def run(self, steps: int) -> None:
        os.environ["SOURCE_DATE_EPOCH"] = str(self.site.epoch)
        clean = self.clean()
        assert clean.ok, f"seed {self.seed}: the initial site does not build: {clean.diagnostics}"
        self.last_good = clean.tree
        self.check(0, "the initial site", clean, [("commsite build", self.fresh(True))])
        self.check_serve(0, "the initial site", clean, {}, self.start_serve())
        for step in range(1, steps + 1):
            before = inputs(self.root)
            if self.site.broken:
                what = f"{self.site.repair()}; then {random_edit(self.site, valid_only=True)}"
            elif self.site.rng.random() < SEVERAL_EDITS:  # a `git pull`, a branch switched
                what = "; ".join(random_edit(self.site) for _ in range(self.site.rng.randint(2, 4)))
            else:
                what = random_edit(self.site)
            self.site.sync()
            self.history.append(f"step {step}: {what}")
            os.environ["SOURCE_DATE_EPOCH"] = str(self.site.epoch)
            after = inputs(self.root)
            changed = sorted(
                p
                for p in before.keys() | after.keys()
                if p not in before or p not in after or before[p] != after[p]
            )
            clean = self.clean()
            fresh = self.fresh(step % NEW_PROCESS_EVERY == 0)
            name = (
                "commsite build (a new process)" if step % NEW_PROCESS_EVERY == 0 else "build_site"
            )
            self.check(step, what, clean, [(name, fresh)])
            shown = tree(self.preview_dir)
            served, missed = self.served(changed)
            self.check_serve(step, what, clean, shown, [("serve's Builder", served)])
            if missed:
                problem = f"missed_changes() names {missed}, but its watcher reported all"
                raise AssertionError(self.report(step, what, "serve's Builder", [problem]))
            if self.site.rng.random() < SERVE_RESTARTS:
                self.history.append(f"step {step}: serve restarts")
                shown = tree(self.preview_dir)
                self.check_serve(step, "serve restarts", clean, shown, self.start_serve())
            if clean.ok:
                self.last_good = clean.tree

    def check(
        self, step: int, what: str, clean: Outcome, builds: list[tuple[str, Outcome]]
    ) -> None:
        """Each build's diagnostics are the clean build's, and its output a clean
        build's (or, when the build failed, the last valid site's)."""
        for name, got in builds:
            problems = self.diagnostics_problems(clean, name, got)
            want = clean.tree if clean.ok else self.last_good
            if got.tree != want:
                wanted = "a clean build's" if clean.ok else "the last output (the build failed)"
                problems.append(f"its output differs from {wanted}:\n" + _tree_diff(want, got.tree))
            if problems:
                raise AssertionError(self.report(step, what, name, problems))

    def check_serve(
        self,
        step: int,
        what: str,
        clean: Outcome,
        shown: dict[str, bytes],
        builds: list[tuple[str, Outcome]],
    ) -> None:
        """As `check`, for serve's builds, whose preview showed `shown` before them,
        with the difference serve promises in its search index (see the module's
        docstring): a failed build leaves `shown` as it was; a successful one has a
        clean build's pages and, but for its Builder's first index, either a clean
        build's index or the one it had."""
        for name, got in builds:
            problems = self.diagnostics_problems(clean, name, got)
            if not got.ok:
                if got.tree != shown:
                    problems.append(
                        "the build failed but changed the preview:\n" + _tree_diff(shown, got.tree)
                    )
                want, got_tree = _without_search(self.last_good), _without_search(got.tree)
                wanted = "the last output (the build failed)"
            elif not self.indexed:  # (its first index: made afresh)
                want, got_tree, wanted = clean.tree, got.tree, "a clean build's"
                self.indexed = True
            else:
                index = _search_only(got.tree)
                if index not in (_search_only(clean.tree), _search_only(shown)):
                    problems.append(
                        "its search index is neither a clean build's nor the one it had:\n"
                        + _tree_diff(_search_only(clean.tree), index)
                    )
                want, got_tree = _without_search(clean.tree), _without_search(got.tree)
                wanted = "a clean build's"
            if got_tree != want:
                problems.append(f"its output differs from {wanted}:\n" + _tree_diff(want, got_tree))
            if problems:
                raise AssertionError(self.report(step, what, name, problems))

    @staticmethod
    def diagnostics_problems(clean: Outcome, name: str, got: Outcome) -> list[str]:
        if got.ok == clean.ok and got.diagnostics == clean.diagnostics:
            return []
        return [
            f"it {'succeeded' if got.ok else 'failed'}, the clean build "
            f"{'succeeded' if clean.ok else 'failed'}; diagnostics:\n"
            + _lines_diff(clean.diagnostics, got.diagnostics, "clean", name)
        ]

    def report(self, step: int, what: str, name: str, problems: list[str]) -> str:
        history = "\n".join(f"  {e}" for e in self.history)
        return (
            f"seed {self.seed}, step {step} ({what}), now {self.site.now:%Y-%m-%d %H:%M:%S}Z, "
            f"{'with' if self.preview else 'without'} drafts and future stories:\n"
            f"{name}: " + "\n".join(problems) + "\n"
            f"edits so far:\n{history}\n"
            f"replay: COMMSITE_DIFF_SEED={self.seed} COMMSITE_DIFF_SEEDS=1 "
            f"COMMSITE_DIFF_STEPS={step} pytest {Path(__file__).name}"
        )


def _without_search(files: dict[str, bytes]) -> dict[str, bytes]:
    """The output `files` without the search index's."""
    return {p: data for p, data in files.items() if not p.startswith("pagefind/")}


def _search_only(files: dict[str, bytes]) -> dict[str, bytes]:
    """The search index's files among the output `files`."""
    return {p: data for p, data in files.items() if p.startswith("pagefind/")}


def _cli_diagnostics(stderr: str) -> tuple[str, ...]:
    """The diagnostic lines `commsite build` printed (those before its count line),
    and its "Left out: ..." line (not its search index's progress line)."""
    lines = [line for line in stderr.splitlines() if not line.startswith("Indexed ")]
    for n, line in enumerate(lines):
        if line.startswith(("Built ", "Build failed")):
            return (*lines[: n - 1 if n else 0], *lines[n + 1 :])
    return tuple(lines)


def _lines_diff(want: Sequence[str], got: Sequence[str], a: str, b: str) -> str:
    return "\n".join(difflib.unified_diff(list(want), list(got), a, b, lineterm="", n=1))


def _tree_diff(want: dict[str, bytes], got: dict[str, bytes], shown: int = 3) -> str:
    missing = sorted(want.keys() - got.keys())
    extra = sorted(got.keys() - want.keys())
    differ = sorted(p for p in want.keys() & got.keys() if want[p] != got[p])
    out = []
    if missing:
        out.append(f"  missing: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}")
    if extra:
        out.append(f"  extra: {', '.join(extra[:8])}{' ...' if len(extra) > 8 else ''}")
    if differ:
        out.append(f"  different: {', '.join(differ[:8])}{' ...' if len(differ) > 8 else ''}")
    for path in differ[:shown]:
        a = want[path].decode("utf-8", "replace").splitlines()
        b = got[path].decode("utf-8", "replace").splitlines()
        diff = list(difflib.unified_diff(a, b, f"clean/{path}", f"built/{path}", lineterm="", n=1))
        out += ["    " + line[:200] for line in diff[:24]]
    return "\n".join(out)


@pytest.mark.parametrize("seed", range(FIRST_SEED, FIRST_SEED + SEEDS))
def test_incremental_builds_equal_clean_builds(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")  # (restored afterwards; set each step)
    differential = Differential(seed, tmp_path)
    try:
        differential.run(STEPS)
    finally:
        if differential.builder is not None:
            differential.builder.close()
