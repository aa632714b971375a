"""Hugo as a peer of `benchmarks/build.py --compare hugo`: the program, the project, one build.

Hugo comes from Debian's package (`apt-get install hugo`; 0.111.3 on Debian 12),
installed here when it is missing, as `--compare pelican` installs Pelican.

The project is `benchmarks/hugo/` with the generated content files copied in as
they are (their front matter is YAML, which Hugo reads). It builds what a Hugo
user would for this site, as the Eleventy project does: a page per story
(Goldmark with its default GitHub extensions, tables included, and fenced code
highlighted by Chroma; a layout with head, nav, the authors linking to member
pages, the tags to tag pages, the recapped event), a page per member (bio,
roles, interests, their stories as cards, through an `authors` taxonomy whose
own pages are not rendered), a page per event (hosts, tags, recaps), a page per
tag (the tag's stories as cards, its events) and the tag index, the story list
10 a page, the member and event directories, the home page, the pages and
rules, the home page's RSS feed of the latest 20 stories and a sitemap. A card
is a story's title, date, authors, its summary (Hugo's, cut from the rendered
HTML) and its tags.

It does not write what commsite writes beyond that: ActivityPub documents, the
JSON Feed, iCalendar files, robots.txt, the 404 page, WebFinger and NodeInfo,
heading anchors, image variants, the search index. Hugo has no build cache
between processes for content: each of its builds renders everything, so its
"no change" and "one story edited" builds are full builds into an existing output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

__all__ = ["HUGO_PROJECT", "hugo_executable", "hugo_site", "hugo_version", "time_hugo"]

HUGO_PROJECT = Path(__file__).resolve().parent / "hugo"
CONTENT_FOLDERS = ("stories", "members", "events")


def hugo_executable(*, install: bool = True) -> str:
    """The `hugo` program; installed from Debian's package first when missing and
    `install` (SystemExit saying how when that cannot be done)."""
    found = shutil.which("hugo")
    if found is not None or not install:
        if found is None:
            raise SystemExit("--compare hugo needs Hugo: `apt-get install hugo`")
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        raise SystemExit(
            "--compare hugo needs Hugo (Debian's package 'hugo', or https://gohugo.io/installation/)"
        )
    command = [apt, "install", "-y", "-qq", "--no-install-recommends", "hugo"]
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(command, env=env).returncode != 0 or shutil.which("hugo") is None:
        raise SystemExit(f"could not install Hugo ({' '.join(command)} failed): install it first")
    return str(shutil.which("hugo"))


def hugo_version(hugo: str) -> str:
    """The version Hugo reports, "0.111.3" from "hugo v0.111.3+extended linux/amd64 ..."."""
    out = subprocess.run([hugo, "version"], capture_output=True, text=True, check=True).stdout
    words = out.split()
    return words[1].lstrip("v").split("+")[0].split("-")[0] if len(words) > 1 else out.strip()


def hugo_site(content: Path, dest: Path) -> Path:
    """The Hugo project at `dest`: benchmarks/hugo/ with the site's content copied in
    (stories, members and events as they are; the about page and rules at the top,
    so they are /about/ and /rules/ as in commsite's site)."""
    shutil.copytree(HUGO_PROJECT, dest)
    for folder in CONTENT_FOLDERS:
        (dest / "content" / folder).mkdir(parents=True, exist_ok=True)
        for path in sorted((content / folder).glob("*.md")):
            shutil.copyfile(path, dest / "content" / folder / path.name)
    for path in sorted((content / "pages").glob("*.md")):
        shutil.copyfile(path, dest / "content" / path.name)
    shutil.copyfile(content / "rules.md", dest / "content" / "rules.md")
    return dest


def hugo_copy(project: Path, story: Path) -> Path:
    """Where `story` (a file of the commsite site's content/stories/) is in the project."""
    return project / "content" / "stories" / story.name


def time_hugo(hugo: str, project: Path) -> float:
    """Seconds of one `hugo` build of the project into its public/ (as it is: the
    caller removes it for a clean build); SystemExit with Hugo's message if it fails."""
    os.sync()
    started = time.perf_counter()
    proc = subprocess.run(
        [hugo, "--quiet", "--destination", "public"], cwd=project, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"hugo failed:\n{proc.stderr[-3000:]}")
    return seconds
