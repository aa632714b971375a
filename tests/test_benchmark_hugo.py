"""`benchmarks/build.py --compare hugo` at a tiny size: the Hugo project builds the
same content (a page per story, member and event; member pages list their
stories), and the comparison prints medians and ratios for every figure.

Needs Hugo (Debian's package 'hugo'): skipped with a printed reason without it,
failed on CI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from needs import executable

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from build import generate_site  # noqa: E402  (the benchmark's own generator)
from hugo_peer import hugo_site, hugo_version, time_hugo  # noqa: E402


def test_the_hugo_project_builds_the_same_content(tmp_path: Path) -> None:
    hugo = executable("hugo")
    assert re.fullmatch(r"\d+\.\d+\.\d+", hugo_version(hugo))
    site = generate_site(tmp_path / "site", 40)
    project = hugo_site(site.root / "content", tmp_path / "hugo")
    assert time_hugo(hugo, project) > 0
    public = project / "public"
    for story in site.stories:
        page = (public / "stories" / story.stem / "index.html").read_text(encoding="utf-8")
        title = re.search(r"^title: (.*)$", story.read_text(encoding="utf-8"), re.M)
        assert title is not None and f"<h1>{title[1]}</h1>" in page
        assert "<table>" in page and 'class="highlight"' in page  # (tables, Chroma)
    members = sorted((site.root / "content" / "members").glob("*.md"))
    assert all((public / "members" / m.stem / "index.html").is_file() for m in members)
    cards = sum(
        (public / "members" / m.stem / "index.html").read_text(encoding="utf-8").count('"card"')
        for m in members
    )
    assert cards >= len(site.stories)  # every story is on its authors' pages
    assert not (public / "authors").exists()  # (the taxonomy behind that is not rendered)
    events = sorted((site.root / "content" / "events").glob("*.md"))
    assert all((public / "events" / e.stem / "index.html").is_file() for e in events)
    assert (public / "stories" / "page" / "4" / "index.html").is_file()  # 10 a page
    assert (public / "index.xml").read_text(encoding="utf-8").count("<item>") == 20


def test_compare_hugo_prints_medians_and_ratios(tmp_path: Path) -> None:
    executable("hugo")
    command = [sys.executable, str(BENCHMARKS / "build.py"), "--compare", "hugo"]
    proc = subprocess.run(
        [*command, "--sizes", "6,12", "--runs", "1", "--json", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert re.fullmatch(r"\d+\.\d+\.\d+", figures["hugo_version"])
    for size in ("6", "12"):
        found = figures[size]
        for key in ("cold", "nochange", "edited", "next"):
            ours, theirs = found["medians"]["commsite"][key], found["medians"]["hugo"][key]
            assert ours > 0 and theirs > 0
            assert found["ratio"][key] == ours / theirs
        assert found["files"]["commsite"] > 0 and found["files"]["hugo"] > 0
