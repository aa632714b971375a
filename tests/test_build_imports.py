"""What `commsite build` imports in a new process: nothing the build at hand does
not need. A build with nothing to do stops at the no-change check before the
pipeline, Jinja2, Markdown or worker processes are imported; a build after an
edit, on a site with no images and search off, imports neither Pillow nor
Pagefind's modules nor the sidecar. Each is checked with sys.modules in a real
process, so an eager import added anywhere on the way fails here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "valid_min"
STORY = "content/stories/2026-03-20-spring-recap.md"

# Never imported by a build of a site with no images and search off.
NEVER = (
    "PIL",
    "pagefind",
    "commsite.search.pagefind",
    "commsite.sidecar",
    "commsite.cli.sidecar_cmd",
    "commsite.fediverse",
)
# Not imported either when nothing changed.
NOT_WITHOUT_CHANGES = (
    *NEVER,
    "commsite.build.pipeline",
    "jinja2",
    "markdown_it",
    "markdown_it_pyrs",
    "pygments",
    "multiprocessing",
    "concurrent.futures",
    "importlib.metadata",
)

_BUILD = """
import sys
from commsite.cli import main
try:
    main(["build", "--quiet", sys.argv[1]])
except SystemExit as exit:
    assert not exit.code, exit.code
print(" ".join(sorted(sys.modules)))
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(FIXTURE, root)
    with (root / "commsite.yaml").open("a", encoding="utf-8") as config:
        config.write("search: false\n")
    return root


def build(site: Path) -> set[str]:
    """The modules a `commsite build` of `site` in a new process imported."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1790000000"}
    done = subprocess.run(
        [sys.executable, "-c", _BUILD, str(site)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_a_build_with_nothing_to_do_imports_only_the_no_change_check(site: Path) -> None:
    first = build(site)
    assert "commsite.build.pipeline" in first and "jinja2" in first  # (it built)
    assert build(site) & set(NOT_WITHOUT_CHANGES) == set()


def test_an_edit_imports_neither_pillow_nor_pagefind_nor_the_sidecar(site: Path) -> None:
    build(site)
    story = site / STORY
    story.write_text(story.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    imported = build(site)
    assert "commsite.build.pipeline" in imported  # (it built)
    assert imported & set(NEVER) == set()


def test_the_libraries_versions_are_importlib_metadatas() -> None:
    """The code fingerprint reads them off sys.path's metadata folders (not to
    import importlib.metadata): the same versions, and "none" for a library that
    is not installed."""
    import importlib.metadata

    from commsite.build import fingerprint

    expected = {}
    for name in fingerprint._LIBRARIES:
        try:
            expected[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            expected[name] = "none"
    assert fingerprint.library_versions() == expected
    assert "none" not in expected.values()  # (this environment has them all)
