"""Build benchmarks on a synthetic community site.

    python benchmarks/build.py --stories 1000 [--runs 3] [--jobs N]
    python benchmarks/build.py --stories 5000 --compare pelican
    python benchmarks/build.py --stories 5000 --compare eleventy [--compare pelican]
    python benchmarks/build.py --compare hugo [--sizes 2000,5000,10000] [--runs 3]

Generates a deterministic site (N stories of about 800 words of varied Markdown:
headings, lists, code blocks, tables, links, emphasis; N/10 members; N/20
events) in a temporary directory, then measures, each as the median of --runs
runs of `commsite build` in a fresh process (so what is measured is the cache on
disk, not memory):

* cold: no output, no cache;
* no change: build again;
* one story edited: change one story's body, build again;
* the same in one long-lived Builder, as `commsite serve` keeps (several edits,
  the median; the first rebuild, which fills its memos, shown apart);
* the newest story retitled, both ways (its card is on the lists, tag pages and
  feeds);
* a new process that only imports Jinja2, markdown-it-py and PyYAML: less than
  any fresh `commsite build` that renders a page can take, whatever its cache
  holds.

It prints pages per second for the cold build and the peak resident memory of
the build processes (ru_maxrss of the children, worker processes included).

--compare pelican installs Pelican in a virtual environment (cached under
/tmp/commsite-bench), converts the same content into a Pelican site and
alternates clean builds of both, printing the medians, their ratio and the files
each wrote. --compare eleventy does the same with Eleventy 3.1 (installed with
npm under /tmp/commsite-bench/eleventy; needs Node.js 18+) and the Eleventy
project in benchmarks/eleventy/. --compare may be given more than once.

--compare hugo builds, at each of --sizes (stories, comma-separated), the same
content with Hugo (Debian's package, installed when missing; the project is
benchmarks/hugo/, see hugo_peer.py) and commsite in alternating rounds of a
clean build, a build with nothing changed, one after a story was edited (the
first edit after a clean build, which links the previous site for the output
switch) and one after another story was edited, each in a new process, and
prints the medians and the commsite/Hugo ratios.
Alone, it measures nothing else:

    python benchmarks/build.py --compare hugo --sizes 2000,5000,10000 --runs 3

Before each clean build the previous output is moved aside, not deleted (see
_TRASH: on ext4 without a journal, files created right after a big delete pay
for it); --delete-between deletes it instead, as the runs before session 6 did.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

CACHE_DIR = Path(tempfile.gettempdir()) / "commsite-bench"
# Stories are dated before this; half of the events after it.
EPOCH = datetime(2026, 6, 1, tzinfo=UTC)

WORDS_TEXT = """
repair tool library bicycle kettle toaster lamp radio soldering iron fuse cable
plug switch motor bearing chain spoke wheel brake tyre valve pump hinge screw
bolt washer clamp drill bit saw chisel plane glue wood metal fabric thread needle
button zip seam hem patch darn yarn sock jumper coat boot sole heel lace stitch
neighbour volunteer visitor organiser host member newcomer child parent friend
morning afternoon evening saturday wednesday table hall kitchen corner shelf box
bring borrow lend share learn teach show fix mend sew glue tighten loosen clean
oil test measure check replace open close start finish wait help ask answer try
small large old new broken working quiet loud careful patient quick slow bright
simple tricky useful handy friendly warm cold wet dry heavy light sharp blunt
because while after before during until although however instead perhaps often
always sometimes never usually together alone again already still almost nearly
circuit board resistor capacitor diode battery charger adapter speaker headphone
laptop phone screen keyboard mouse printer cartridge paper ink toner hinge latch
community street market school library garden allotment workshop cafe festival
"""
WORDS = WORDS_TEXT.split()

TAGS = [
    "electronics", "bikes", "sewing", "tools", "woodwork", "news", "how-to",
    "spotlight", "events", "kitchen", "garden", "toys", "lamps", "radios", "clocks",
    "computers", "phones", "furniture", "clothing", "shoes", "jewellery", "music",
    "repair-cafe", "tool-library", "volunteers", "sustainability", "recycling",
    "upcycling", "safety", "beginners", "advanced", "kids", "family", "winter",
    "summer", "spring", "autumn", "outdoors", "indoors", "community",
]  # fmt: skip

LANGUAGES = {
    "python": [
        "def ohms_law(volts: float, amps: float) -> float:",
        "    return volts / amps",
        "",
        "for fuse in (3, 5, 13):",
        '    print(f"{fuse} A fuse: {230 * fuse} W max")',
        "readings = [ohms_law(v, 0.5) for v in range(1, 10)]",
        "assert all(r > 0 for r in readings)",
        "class Repair:",
        "    def __init__(self, item: str) -> None:",
        "        self.item = item",
    ],
    "javascript": [
        "const tools = new Map();",
        "function lend(tool, member) {",
        "  if (tools.has(tool)) throw new Error(`${tool} is out`);",
        "  tools.set(tool, { member, since: Date.now() });",
        "}",
        "lend('drill', 'ada');",
        "console.log([...tools.keys()].join(', '));",
        "export default lend;",
    ],
    "bash": [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        "for f in photos/*.jpg; do",
        '  convert "$f" -resize 1200x "web/$(basename "$f")"',
        "done",
        'echo "resized $(ls web | wc -l) photos"',
        "git add web && git commit -m 'Photos from the repair café'",
    ],
    "yaml": [
        "title: Spring repair day",
        "start: 2027-03-13T10:00:00",
        "hosts: [ada-okafor, gus-mcallister]",
        "location:",
        "  name: Eastfield Community Hall",
        "  address: Church Street",
        "capacity: 40",
    ],
}


# A public key (the example site's), so the build writes the federation documents
# (actor, outbox, one object per story and event) as a real site would.
PUBLIC_KEY = """\
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArUj0LhjTYuavC53Xc0sp
k5vLXZnFMci8a/xIjA//PX8fD84xD3WdKmNIqx+nBwqVeqepBy9KUQZC4KUPouzj
/sQ1uWH2abL0UJhdWi9Ymy1t7rYecbKLt9RZ6meHh79tBVBbxoR9g4Gro2dHjZ1s
PTWRIZxk6ofzpqqPb/7yfZko9PBlebyLH8+sSa4GkBZdtYi7aLrpeu8NBQE8b0cM
/yOzKCcvCYNIaZatdie0QqJc04GPILWiBDOjNW+iF4cWCdLJ7BsgdMTfC0QpocV1
mjZf2H2U3Y87DzUAn/653NEDVaT30X8lZR4FRyf5f5a+Gsiu4BWb7xbLTN5qoUtS
gQIDAQAB
-----END PUBLIC KEY-----
"""


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _sentence(rng: random.Random, n: int) -> str:
    text = _words(rng, n)
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, words: int) -> str:
    parts: list[str] = []
    remaining = words
    while remaining > 0:
        n = min(remaining, rng.randint(8, 18))
        sentence = _sentence(rng, n)
        roll = rng.random()
        if roll < 0.15:
            w = rng.choice(WORDS)
            sentence = sentence.replace(f" {w} ", f" *{w}* ", 1)
        elif roll < 0.25:
            w = rng.choice(WORDS)
            sentence = sentence.replace(f" {w} ", f" **{w}** ", 1)
        elif roll < 0.32:
            w = rng.choice(WORDS)
            sentence = sentence.replace(f" {w} ", f" `{w}()` ", 1)
        elif roll < 0.42:
            w = rng.choice(WORDS)
            sentence = sentence.replace(
                f" {w} ", f" [{w}](https://example.org/{w}/{rng.randint(1, 999)}) ", 1
            )
        parts.append(sentence)
        remaining -= n
    return "\n".join(textwrap.wrap(" ".join(parts), 78))


def story_body(rng: random.Random) -> str:
    """About 800 words of varied Markdown."""
    blocks = [_paragraph(rng, 90)]
    blocks.append(f"## {_sentence(rng, 4)[:-1]}")
    blocks.append(_paragraph(rng, 110))
    blocks.append("\n".join(f"- {_sentence(rng, rng.randint(5, 12))}" for _ in range(5)))
    blocks.append(f"### {_sentence(rng, 3)[:-1]}")
    blocks.append(_paragraph(rng, 90))
    language = rng.choice(sorted(LANGUAGES))
    lines = LANGUAGES[language]
    start = rng.randint(0, max(0, len(lines) - 6))
    blocks.append(f"```{language}\n" + "\n".join(lines[start : start + 8]) + "\n```")
    blocks.append(_paragraph(rng, 100))
    header = "| Item | Fault | Fixed? |\n|---|---|:-:|"
    rows = [
        f"| {rng.choice(WORDS)} | {_words(rng, 3)} | {rng.choice(['yes', 'no', 'partly'])} |"
        for _ in range(4)
    ]
    blocks.append("\n".join([header, *rows]))
    blocks.append(f"## {_sentence(rng, 5)[:-1]}")
    blocks.append(_paragraph(rng, 100))
    blocks.append("\n".join(f"{i}. {_sentence(rng, rng.randint(6, 12))}" for i in range(1, 5)))
    blocks.append("> " + _sentence(rng, 20))
    blocks.append(_paragraph(rng, 120))
    blocks.append(_paragraph(rng, 60))
    return "\n\n".join(blocks) + "\n"


@dataclass(frozen=True)
class Generated:
    root: Path
    stories: list[Path]


def generate_site(root: Path, stories: int, *, seed: int = 1) -> Generated:
    """Write a synthetic site of `stories` stories into `root` (deterministic)."""
    rng = random.Random(seed)
    (root / "content" / "stories").mkdir(parents=True, exist_ok=True)
    (root / "content" / "members").mkdir(parents=True, exist_ok=True)
    (root / "content" / "events").mkdir(parents=True, exist_ok=True)
    (root / "content" / "pages").mkdir(parents=True, exist_ok=True)
    (root / "commsite.yaml").write_text(
        "title: Benchmark Fixers\n"
        "base_url: https://bench.example/\n"
        "description: A synthetic community for benchmarks.\n"
        "timezone: Europe/London\n"
        "per_page: 10\n"
        "community:\n  handle: bench\n",
        encoding="utf-8",
    )
    (root / "federation").mkdir(exist_ok=True)
    (root / "federation" / "public-key.pem").write_text(PUBLIC_KEY, encoding="utf-8")
    (root / "content" / "rules.md").write_text(
        "---\ntitle: Our rules\n---\n"
        "1. Be kind.\n2. Stay with your item while it is fixed.\n3. Safety first.\n",
        encoding="utf-8",
    )
    (root / "content" / "pages" / "about.md").write_text(
        f"---\ntitle: About us\n---\n{_paragraph(rng, 120)}\n", encoding="utf-8"
    )
    n_members = max(1, stories // 10)
    member_ids = [f"member-{i:05d}" for i in range(n_members)]
    for i, member in enumerate(member_ids):
        interests = rng.sample(TAGS, 3)
        (root / "content" / "members" / f"{member}.md").write_text(
            "---\n"
            f"name: {_words(rng, 2).title()} {i}\n"
            f'handle: "@m{i}@members.example"\n'
            f"interests: [{', '.join(interests)}]\n"
            f"joined: {(date(2020, 1, 1) + timedelta(days=i % 2000)).isoformat()}\n"
            f"roles: [{rng.choice(['organiser', 'host', 'volunteer'])}]\n"
            "---\n"
            f"{_paragraph(rng, 60)}\n",
            encoding="utf-8",
        )
    n_events = max(1, stories // 20)
    event_ids = []
    for i in range(n_events):
        start = EPOCH + timedelta(days=(i - n_events // 2) * 7, hours=10)
        slug = f"event-{i:05d}"
        event_ids.append((slug, start))
        hosts = rng.sample(member_ids, min(2, len(member_ids)))
        (root / "content" / "events" / f"{start.date().isoformat()}-{slug}.md").write_text(
            "---\n"
            f"title: {_sentence(rng, 4)[:-1]}\n"
            f"start: {start.strftime('%Y-%m-%dT%H:%M:%S')}\n"
            f"end: {(start + timedelta(hours=3)).strftime('%Y-%m-%dT%H:%M:%S')}\n"
            f"location: Hall {i % 7}, Church Street\n"
            f"hosts: [{', '.join(hosts)}]\n"
            f"tags: [{', '.join(rng.sample(TAGS, 2))}]\n"
            "---\n"
            f"{_paragraph(rng, 80)}\n",
            encoding="utf-8",
        )
    paths: list[Path] = []
    for i in range(stories):
        when = EPOCH - timedelta(hours=6 * (stories - i) + 1)
        slug = f"story-{i:06d}"
        authors = rng.sample(member_ids, 1 if rng.random() < 0.8 else min(2, len(member_ids)))
        extra = ""
        if rng.random() < 0.05:  # a recap of an event that ended before the story
            done = [event for event, start in event_ids if start + timedelta(hours=3) < when]
            if done:
                extra = f"event: {rng.choice(done[-20:])}\n"
        path = root / "content" / "stories" / f"{when.date().isoformat()}-{slug}.md"
        path.write_text(
            "---\n"
            f"title: {_sentence(rng, rng.randint(3, 8))[:-1]}\n"
            f"date: {when.strftime('%Y-%m-%dT%H:%M:%S')}\n"
            f"authors: [{', '.join(authors)}]\n"
            f"tags: [{', '.join(rng.sample(TAGS, rng.randint(1, 3)))}]\n"
            f"{extra}"
            "---\n"
            f"{story_body(rng)}",
            encoding="utf-8",
        )
        paths.append(path)
    return Generated(root, paths)


# --- measuring ---------------------------------------------------------------


_CODE: Path | None = None  # a snapshot of the commsite package, when one was taken


def snapshot_code(dest: Path) -> Path:
    """Copy the commsite package (and its themes) to `dest`, so edits made to the
    working tree while the benchmark runs neither change what is measured nor
    invalidate the build cache (whose fingerprints cover commsite's code)."""
    import commsite

    package = Path(commsite.__file__).resolve().parent
    themes = package.parent.parent / "themes"
    shutil.rmtree(dest / "commsite", ignore_errors=True)  # (--keep into a used folder)
    shutil.copytree(package, dest / "commsite", ignore=shutil.ignore_patterns("__pycache__"))
    if themes.is_dir() and not (dest / "commsite" / "themes").exists():
        shutil.copytree(themes, dest / "commsite" / "themes")
    # Byte-compile it, as `pip install` does: a fresh process then imports commsite
    # instead of compiling it (this matters where PYTHONDONTWRITEBYTECODE is set).
    compileall.compile_dir(dest / "commsite", quiet=1)
    return dest


def _cpu_seconds() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


# CPU seconds (user, system; workers included) of each build run
CPU: list[tuple[float, float]] = []


# Where a clean run's previous output goes (None: deleted, --delete-between).
#
# On ext4 without a journal (this project's machines), the inode allocator passes
# over every inode freed in the last 60 seconds (360 while its inode-table block is
# dirty) before it takes a free one (fs/ext4/ialloc.c, find_inode_bit and
# recently_deleted), and it starts from the front of the group each time. So a
# build right after `rm -rf` of the last one pays for each new file a walk over the
# files just deleted: a cost that grows with the square of the file count (perf
# shows recently_deleted and find_get_block_common; creating 15,000 files took 1.5
# system seconds into a fresh folder, 5.7-7.0 s right after deleting 15,000).
# That measures the benchmark's own deletes, so by default a previous output is
# renamed into a trash folder (same file system, one rename), kept until the end,
# and every tool's clean build allocates inodes as on a disk nobody just emptied.
_TRASH: Path | None = None


def discard(path: Path) -> None:
    """Make `path` absent: moved into the trash folder, or deleted without one."""
    if not path.exists():
        return
    if _TRASH is None:
        shutil.rmtree(path)
        return
    _TRASH.mkdir(parents=True, exist_ok=True)
    path.rename(_TRASH / str(sum(1 for _ in _TRASH.iterdir())))


def disk_probe(where: Path, files: int = 2000) -> float:
    """Milliseconds to create one folder with a 20 KB file in it (the shape of a
    story page), over `files` of them. On the machines these figures come from,
    this moved from 0.1 to 1.6 ms within hours (files deleted in the last minutes
    make it dearer: see _TRASH), which moves a cold build by several seconds:
    printed beside the figures."""
    base = where / "disk-probe"
    discard(base)
    base.mkdir(parents=True)
    os.sync()
    data = b"x" * 20_000
    started = time.perf_counter()
    for n in range(files):
        folder = base / str(n)
        folder.mkdir()
        (folder / "index.html").write_bytes(data)
    seconds = time.perf_counter() - started
    discard(base)
    return seconds / files * 1000


def _run_build(site: Path, args: list[str]) -> tuple[float, dict[str, object]]:
    """Wall time of `commsite build` in a fresh process, and its last-build record."""
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)
    if _CODE is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_CODE), env.get("PYTHONPATH")]))
    os.sync()  # the previous run's files reach the disk before this one is timed
    cpu = _cpu_seconds()
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", "from commsite.cli import run; run()", "build", str(site), *args],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    user, system = _cpu_seconds()
    CPU.append((user - cpu[0], system - cpu[1]))
    if proc.returncode != 0:
        raise SystemExit(f"commsite build failed:\n{proc.stderr}")
    record = json.loads((site / ".commsite" / "build-cache" / "last-build.json").read_text())
    return seconds, record


# The libraries a build needs to remake the pages of one edited story: its front
# matter (PyYAML), its body (markdown-it-py), the pages (Jinja2). commsite's own
# modules and the other libraries it imports come on top.
_FLOOR_IMPORTS = "import jinja2, markdown_it, yaml"


def measure_floor(runs: int) -> dict[str, object]:
    """Wall time of a fresh Python process that imports the libraries an edit's
    rebuild needs and exits: less than any new `commsite build` that renders a
    page can take, before it reads one file."""
    env = dict(os.environ)
    if _CODE is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_CODE), env.get("PYTHONPATH")]))
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", _FLOOR_IMPORTS], env=env, check=True)
        times.append(time.perf_counter() - started)
    return {"floor": statistics.median(times), "floor_runs": times}


def _clean(site: Path) -> None:
    discard(site / "public")
    discard(site / ".public.commsite")  # the previous site, kept beside the output
    discard(site / ".commsite")


def _edit(story: Path, n: int, *, title: bool = False) -> None:
    """Change the story's last paragraph; with `title`, its title too (which its
    cards on the lists, tag and member pages show)."""
    text = story.read_text(encoding="utf-8")
    marker = "\n<!-- bench edit -->\n"
    text = text.split(marker)[0]
    if title:
        text = _retitled(text, n)
    story.write_text(text + marker + f"Edited paragraph number {n}.\n", encoding="utf-8")


def _retitled(text: str, n: int) -> str:
    new = f"title: Retitled {n} - "
    return re.sub(r"^title: (Retitled \d+ - )?", new, text, count=1, flags=re.M)


def _peak_rss_mib() -> float:
    # ru_maxrss of the largest child waited for (and its waited-for descendants), in KiB.
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def measure(site: Generated, runs: int, extra: list[str]) -> dict[str, object]:
    cold: list[float] = []
    nochange: list[float] = []
    edited: list[float] = []
    retitled: list[float] = []
    counts: dict[str, object] = {}
    cpu: dict[str, list[tuple[float, float]]] = {
        "cold": [],
        "nochange": [],
        "edited": [],
        "retitled": [],
    }
    for n in range(runs):
        _clean(site.root)
        seconds, record = _run_build(site.root, extra)
        cold.append(seconds)
        cpu["cold"].append(CPU[-1])
        counts["files"] = record["total"]
        seconds, record = _run_build(site.root, extra)
        nochange.append(seconds)
        cpu["nochange"].append(CPU[-1])
        counts["nochange_rendered"] = len(record["rendered"])  # type: ignore[arg-type]
        counts["nochange_written"] = len(record["written"])  # type: ignore[arg-type]
        _edit(site.stories[len(site.stories) // 2], n)
        seconds, record = _run_build(site.root, extra)
        edited.append(seconds)
        cpu["edited"].append(CPU[-1])
        counts["edit_rendered"] = len(record["rendered"])  # type: ignore[arg-type]
        counts["edit_written"] = len(record["written"])  # type: ignore[arg-type]
        # The newest story, retitled: its page, the lists, tag pages and member
        # page that show its card, the feeds and the outbox change (issue 6's list).
        _edit(site.stories[-1], n, title=True)
        seconds, record = _run_build(site.root, extra)
        retitled.append(seconds)
        cpu["retitled"].append(CPU[-1])
        counts["retitle_rendered"] = len(record["rendered"])  # type: ignore[arg-type]
        counts["retitle_written"] = len(record["written"])  # type: ignore[arg-type]
    pages = sum(1 for p in (site.root / "public").rglob("*.html"))
    return {
        "cold": statistics.median(cold),
        "nochange": statistics.median(nochange),
        "edited": statistics.median(edited),
        "retitled": statistics.median(retitled),
        "cold_runs": cold,
        "nochange_runs": nochange,
        "edited_runs": edited,
        "retitled_runs": retitled,
        "cpu": {key: statistics.median(u + s for u, s in values) for key, values in cpu.items()},
        "cpu_user": {key: statistics.median(u for u, _ in values) for key, values in cpu.items()},
        "cpu_system": {key: statistics.median(s for _, s in values) for key, values in cpu.items()},
        "html_pages": pages,
        "pages_per_second": pages / statistics.median(cold),
        "peak_rss_mib": _peak_rss_mib(),
        **counts,
    }


# What `commsite serve` does on each save: one Builder kept in memory, rebuilding
# after an edit (its memos warm after the first rebuild, as in a preview session)
# for the file its watcher reported, then, once the tabs have reloaded, scanning
# every input file for changes the watcher missed (timed apart: `check`). With
# "title", each edit changes the story's title too. Beside another thread, as in
# serve (its server and watcher): a builder alone in its process turns the cycle
# collector off while it builds (build/run.py), which serve's never does; alone,
# the figures were serve's less 10-30 % (in-process A/B at 10,000 stories).
_LONG_LIVED = """
import json, os, re, sys, threading, time
from pathlib import Path
from commsite.build.run import Builder, BuildOptions
threading.Thread(target=threading.Event().wait, daemon=True).start()  # (serve's threads)
root, story, edits = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve(), int(sys.argv[3])
title = sys.argv[4] == "title"
marker = "\\n<!-- serve edit -->\\n"
times, cpu, rendered, checks = [], [], [], []
with Builder(BuildOptions(root=root, owned_output=True)) as builder:
    assert builder.build().ok
    for n in range(edits + 1):
        text = story.read_text(encoding="utf-8").split(marker)[0]
        if title:
            saved = f"title: Saved {n} - "
            text = re.sub(r"^title: (Saved \\d+ - )?", saved, text, count=1, flags=re.M)
        story.write_text(text + marker + f"Saved again, number {n}.\\n", encoding="utf-8")
        before = os.times()
        started = time.perf_counter()
        result = builder.build([story], trusted=True)
        assert result.ok
        times.append(time.perf_counter() - started)
        after = os.times()
        cpu.append(after.user - before.user + after.system - before.system)
        rendered.append(len(result.rendered))
        started = time.perf_counter()
        assert builder.missed_changes() == []
        checks.append(time.perf_counter() - started)
print(json.dumps({"times": times[1:], "cpu": cpu[1:], "first": times[0], "rendered": rendered[-1],
                  "checks": checks[1:]}))
"""


def measure_long_lived(site: Generated, edits: int, *, title: bool = False) -> dict[str, object]:
    """Median seconds of a rebuild after a one-story edit in one long-lived Builder
    (the first rebuild, which fills the memos, reported apart): the body of a story
    a third of the way in, or with `title` the newest story's title and body (its
    keys are prefixed "serve_retitled" instead of "serve_edited")."""
    env = dict(os.environ)
    if _CODE is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_CODE), env.get("PYTHONPATH")]))
    story = site.stories[-1] if title else site.stories[len(site.stories) // 3]
    mode = "title" if title else "body"
    proc = subprocess.run(
        [sys.executable, "-c", _LONG_LIVED, str(site.root), str(story), str(edits), mode],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the long-lived builder failed:\n{proc.stderr}")
    found = json.loads(proc.stdout)
    key = "serve_retitled" if title else "serve_edited"
    return {
        key: statistics.median(found["times"]),
        f"{key}_cpu": statistics.median(found["cpu"]),
        f"{key}_runs": found["times"],
        f"{key}_first": found["first"],
        f"{key}_rendered": found["rendered"],
        f"{key}_check": statistics.median(found["checks"]),
    }


# --- Pelican -------------------------------------------------------------------


def _pelican_venv() -> Path:
    venv = CACHE_DIR / "pelican-venv"
    python = venv / "bin" / "python"
    if not (venv / "bin" / "pelican").exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "pelican[markdown]"], check=True
        )
    return venv


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    _, head, body = text.split("---\n", 2)
    meta = {}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    return meta, body


def pelican_site(site: Generated, dest: Path) -> Path:
    """The same stories (and pages) as a Pelican site at `dest`."""
    discard(dest)
    content = dest / "content"
    (content / "pages").mkdir(parents=True)
    members = {}
    for path in sorted((site.root / "content" / "members").glob("*.md")):
        meta, _ = _front_matter(path.read_text(encoding="utf-8"))
        members[path.stem] = meta["name"]
    for path in site.stories:
        meta, body = _front_matter(path.read_text(encoding="utf-8"))
        authors = [members[a.strip()] for a in meta["authors"].strip("[]").split(",")]
        tags = meta["tags"].strip("[]")
        slug = path.stem[11:]
        (content / f"{slug}.md").write_text(
            f"Title: {meta['title']}\n"
            f"Date: {meta['date'].replace('T', ' ')}\n"
            f"Authors: {', '.join(authors)}\n"
            f"Tags: {tags}\n"
            f"Category: stories\n"
            f"Slug: {slug}\n\n"
            f"{body}",
            encoding="utf-8",
        )
    for path in sorted((site.root / "content" / "pages").glob("*.md")):
        meta, body = _front_matter(path.read_text(encoding="utf-8"))
        (content / "pages" / path.name).write_text(
            f"Title: {meta['title']}\n\n{body}", encoding="utf-8"
        )
    (dest / "pelicanconf.py").write_text(
        "AUTHOR = 'Benchmark Fixers'\n"
        "SITENAME = 'Benchmark Fixers'\n"
        "SITEURL = 'https://bench.example'\n"
        "PATH = 'content'\n"
        "TIMEZONE = 'Europe/London'\n"
        "DEFAULT_LANG = 'en'\n"
        "DEFAULT_PAGINATION = 10\n"
        "FEED_ALL_ATOM = 'feeds/all.atom.xml'\n"
        "LOAD_CONTENT_CACHE = False\n"
        "MARKDOWN = {'extension_configs': {\n"
        "    'markdown.extensions.codehilite': {'css_class': 'highlight'},\n"
        "    'markdown.extensions.extra': {}, 'markdown.extensions.toc': {}}}\n",
        encoding="utf-8",
    )
    return dest


def _time_peer(name: str, command: list[str], output: Path, cwd: Path | None = None) -> float:
    """Seconds of one clean build by a peer: its output removed and the disk synced
    first, as for commsite's runs."""
    discard(output)
    os.sync()
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
    return seconds


def _time_pelican(venv: Path, site: Path) -> float:
    command = [str(venv / "bin" / "pelican"), str(site / "content"), "-o", str(site / "output")]
    command += ["-s", str(site / "pelicanconf.py"), "--quiet"]
    return _time_peer("pelican", command, site / "output")


def compare_pelican(site: Generated, runs: int, extra: list[str]) -> dict[str, object]:
    venv = _pelican_venv()
    peli = pelican_site(site, site.root.parent / "pelican-site")
    return _alternate(
        site, runs, extra, "pelican", lambda: _time_pelican(venv, peli), peli / "output"
    )


def _count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def _alternate(
    site: Generated,
    runs: int,
    extra: list[str],
    peer: str,
    build: Callable[[], float],
    output: Path,
) -> dict[str, object]:
    """Alternate clean builds of commsite and of a peer (`build` makes one clean
    build into `output` and returns its seconds): medians, runs, their ratio, the
    median user and system CPU seconds of each, the files each wrote and the disk
    probe after the runs."""
    ours: list[float] = []
    theirs: list[float] = []
    cpu: dict[str, list[tuple[float, float]]] = {"commsite": [], peer: []}
    for _ in range(runs):
        _clean(site.root)
        ours.append(_run_build(site.root, extra)[0])
        cpu["commsite"].append(CPU[-1])
        before = _cpu_seconds()
        theirs.append(build())
        after = _cpu_seconds()
        cpu[peer].append((after[0] - before[0], after[1] - before[1]))
    mine, other = statistics.median(ours), statistics.median(theirs)
    return {
        "commsite": mine,
        peer: other,
        "commsite_runs": ours,
        f"{peer}_runs": theirs,
        "ratio": other / mine,
        "cpu_user": {key: statistics.median(u for u, _ in values) for key, values in cpu.items()},
        "cpu_system": {key: statistics.median(s for _, s in values) for key, values in cpu.items()},
        "commsite_files": _count_files(site.root / "public"),
        f"{peer}_files": _count_files(output),
        "disk_ms_after": disk_probe(site.root.parent),
    }


# --- Eleventy -----------------------------------------------------------------

ELEVENTY_PROJECT = Path(__file__).resolve().parent / "eleventy"
# The newest 3.1 release that installs from this machine's registry: 3.1.8 needs
# @11ty/recursive-copy@^4.0.6, which the registry does not have (it has 4.0.4).
ELEVENTY = "3.1.7"
ELEVENTY_PACKAGES = [f"@11ty/eleventy@{ELEVENTY}", "@11ty/eleventy-plugin-syntaxhighlight@5"]


def _eleventy_install() -> Path:
    """Eleventy 3.1 and its syntax-highlight plugin, installed with npm once into
    a cached folder (whose node_modules the Eleventy project links to)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    needs = (
        "--compare eleventy needs Node.js 18 or later and npm (Eleventy 3 runs on "
        "Node 18+): install them (e.g. `apt-get install nodejs npm`, or from "
        "https://nodejs.org/) and run again"
    )
    if node is None or npm is None:
        raise SystemExit(needs)
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    if int(version.strip().lstrip("v").split(".")[0] or 0) < 18:
        raise SystemExit(f"{needs} (found node {version.strip()})")
    folder = CACHE_DIR / "eleventy"
    installed = (folder / "node_modules" / ".bin" / "eleventy").exists()
    if not installed or eleventy_version(folder) != ELEVENTY:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text('{"private": true}\n', encoding="utf-8")
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", *ELEVENTY_PACKAGES],
            cwd=folder,
            check=True,
        )
    return folder


def eleventy_version(install: Path) -> str:
    package = install / "node_modules" / "@11ty" / "eleventy" / "package.json"
    return str(json.loads(package.read_text(encoding="utf-8"))["version"])


def eleventy_site(site: Generated, dest: Path) -> Path:
    """The same content as an Eleventy 3 project at `dest` (`benchmarks/eleventy/`,
    the content files copied in as they are: their front matter is YAML).

    It builds what an Eleventy user would for this site: a page per story
    (Markdown through Eleventy's markdown-it, preprocessed by Liquid as is
    Eleventy's default; fenced code highlighted by the syntax-highlight plugin;
    a Nunjucks layout chain with head, nav, the authors linking to member pages,
    the tags to tag pages, the recapped event), a page per member (bio, roles,
    interests, their stories as cards), a page per event (hosts, tags, recaps),
    a page per tag (pagination over a collection of tags: the tag's stories as
    cards, its events), the story list 10 a page, the member and event
    directories, the home page, the pages and rules, and an Atom feed of the
    latest 20 stories (a Nunjucks template, no plugin). A card is a story's
    title, date, authors, a summary cut from its rendered HTML and its tags.

    It does not write what commsite writes beyond that: ActivityPub documents
    (actor, outbox, one object per story and event), the JSON Feed, iCalendar
    files, the sitemap, robots.txt, 404 page, WebFinger and NodeInfo; nor
    heading anchors, image handling or the tag index page.
    """
    discard(dest)
    shutil.copytree(ELEVENTY_PROJECT, dest)
    source = site.root / "content"
    for folder in ("stories", "members", "events", "pages"):
        for path in sorted((source / folder).glob("*.md")):
            shutil.copyfile(path, dest / "content" / folder / path.name)
    shutil.copyfile(source / "rules.md", dest / "content" / "pages" / "rules.md")
    return dest


def _time_eleventy(project: Path) -> float:
    command = [str(project / "node_modules" / ".bin" / "eleventy"), "--config=eleventy.config.mjs"]
    command += ["--input=content", "--output=_site", "--quiet"]
    return _time_peer("eleventy", command, project / "_site", cwd=project)


def compare_eleventy(site: Generated, runs: int, extra: list[str]) -> dict[str, object]:
    install = _eleventy_install()
    project = eleventy_site(site, site.root.parent / "eleventy-site")
    (project / "node_modules").symlink_to(install / "node_modules")
    figures = _alternate(
        site, runs, extra, "eleventy", lambda: _time_eleventy(project), project / "_site"
    )
    figures["eleventy_version"] = eleventy_version(install)
    return figures


COMPARE = {"pelican": compare_pelican, "eleventy": compare_eleventy}


# --- Hugo -----------------------------------------------------------------------

HUGO_SIZES = "250,500,1000"  # the default --sizes: the comparison runs in about a minute
HUGO_FIGURES = {
    "cold": "cold build",
    "nochange": "no change",
    "edited": "one story edited",  # the first edit after a clean build (see build_ab.py)
    "next": "next edit",  # another story's body: what each later save costs
}


def compare_hugo(
    workdir: Path, sizes: list[int], runs: int, extra: list[str], seed: int
) -> dict[str, object]:
    """For each size, a site of that many stories and the same content as a Hugo
    project (benchmarks/hugo_peer.py); `runs` rounds of, in new processes, a clean
    build, a build with nothing changed and one after a story's body was edited,
    commsite's and then Hugo's: the medians, their CPU, and commsite/Hugo ratios."""
    from hugo_peer import hugo_executable, hugo_site, hugo_version

    hugo = hugo_executable()
    found: dict[str, object] = {"hugo_version": hugo_version(hugo), "runs": runs}
    for size in sizes:
        site = generate_site(workdir / f"site-{size}", size, seed=seed)
        # Hugo makes no search index: neither does commsite here (each build with a
        # change runs Pagefind over every page; benchmarks/search_ab.py measures it).
        with (site.root / "commsite.yaml").open("a", encoding="utf-8") as config:
            config.write("search: false\n")
        project = hugo_site(site.root / "content", workdir / f"hugo-{size}")
        found[str(size)] = figures = _hugo_rounds(site, project, hugo, runs, extra)
        shutil.rmtree(project, ignore_errors=True)
        ratios = ", ".join(f"{HUGO_FIGURES[k]} {r:.2f}x" for k, r in figures["ratio"].items())  # type: ignore[attr-defined]
        print(f"{size:,} stories, commsite/Hugo: {ratios}", file=sys.stderr, flush=True)
    return found


def _hugo_rounds(
    site: Generated, project: Path, hugo: str, runs: int, extra: list[str]
) -> dict[str, object]:
    from hugo_peer import hugo_copy, time_hugo

    story = site.stories[len(site.stories) // 2]
    other = site.stories[len(site.stories) // 3]
    times: dict[str, dict[str, list[float]]] = {"commsite": {}, "hugo": {}}
    cpu: dict[str, dict[str, list[float]]] = {"commsite": {}, "hugo": {}}

    def timed(tool: str, figure: str) -> None:
        before = _cpu_seconds()
        if tool == "commsite":
            seconds = _run_build(site.root, extra)[0]
        else:
            seconds = time_hugo(hugo, project)
        after = _cpu_seconds()
        times[tool].setdefault(figure, []).append(seconds)
        cpu[tool].setdefault(figure, []).append(after[0] - before[0] + after[1] - before[1])

    for n in range(runs):
        _clean(site.root)
        timed("commsite", "cold")
        timed("commsite", "nochange")
        _edit(story, n)
        timed("commsite", "edited")
        _edit(other, n)
        timed("commsite", "next")
        discard(project / "public")
        timed("hugo", "cold")
        timed("hugo", "nochange")
        _edit(hugo_copy(project, story), n)
        timed("hugo", "edited")
        _edit(hugo_copy(project, other), n)
        timed("hugo", "next")
    medians = _medians(times)
    return {
        "medians": medians,
        "cpu": _medians(cpu),
        "runs": times,
        "ratio": {k: medians["commsite"][k] / medians["hugo"][k] for k in HUGO_FIGURES},
        "files": {
            "commsite": _count_files(site.root / "public"),
            "hugo": _count_files(project / "public"),
        },
    }


def _medians(found: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    return {tool: {k: statistics.median(v) for k, v in per.items()} for tool, per in found.items()}


def _print_hugo(f: dict[str, object]) -> None:
    runs = f["runs"]
    print(
        f"commsite against Hugo {f['hugo_version']}: medians of {runs} alternating rounds, "
        "each tool in new processes; ratio = commsite / Hugo (below 1: commsite is quicker)"
    )
    head = f"{'stories':>8}  {'build':<17}{'commsite':>10}{'Hugo':>10}{'ratio':>8}"
    print(f"{head}   CPU commsite / Hugo")
    for size, figures in f.items():
        if not size.isdigit() or not isinstance(figures, dict):
            continue
        medians, cpu, ratio = figures["medians"], figures["cpu"], figures["ratio"]
        for key, name in HUGO_FIGURES.items():
            print(
                f"{int(size):>8,}  {name:<17}{medians['commsite'][key]:>8.2f} s"
                f"{medians['hugo'][key]:>8.2f} s{ratio[key]:>7.2f}x   "
                f"{cpu['commsite'][key]:.2f} / {cpu['hugo'][key]:.2f} s"
            )
        files = figures["files"]
        runs_text = "; ".join(
            f"{tool} {key} " + ", ".join(f"{x:.2f}" for x in values)
            for tool, per in figures["runs"].items()
            for key, values in per.items()
        )
        counts = f"files: commsite {files['commsite']:,}, Hugo {files['hugo']:,}"
        print(f"{'':>8}  {counts}; runs: {runs_text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, help="passed to commsite build --jobs")
    parser.add_argument(
        "--compare",
        choices=sorted([*COMPARE, "hugo"]),
        action="append",
        help="also build with a peer, alternating clean builds (repeatable); hugo:"
        " cold, no-change and one-edit builds at each of --sizes, alone unless another"
        " peer is named too",
    )
    parser.add_argument(
        "--sizes",
        default=HUGO_SIZES,
        help=f"stories in each site --compare hugo builds, comma-separated (default {HUGO_SIZES})",
    )
    parser.add_argument("--keep", type=Path, help="generate the site here and keep it")
    parser.add_argument(
        "--delete-between",
        action="store_true",
        help="delete each previous output right before a clean build instead of moving"
        " it aside (on ext4 without a journal, new files then pay for the deleted ones)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--live-code",
        action="store_true",
        help="run the working tree's code instead of a snapshot taken at the start",
    )
    args = parser.parse_args(argv)

    extra = ["--jobs", str(args.jobs)] if args.jobs else []
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="commsite-bench-"))
    try:
        global _CODE, _TRASH
        _TRASH = None if args.delete_between else workdir / "trash"
        if not args.live_code:
            _CODE = snapshot_code(workdir / "code")
        peers = list(dict.fromkeys(args.compare or []))
        if "hugo" in peers:
            sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
            hugo = compare_hugo(workdir, sizes, args.runs, extra, args.seed)
            peers.remove("hugo")
            if not peers:  # (the Hugo comparison has its own sizes)
                if args.json:
                    print(json.dumps(hugo, indent=1))
                else:
                    _print_hugo(hugo)
                return 0
            _print_hugo(hugo)
        started = time.perf_counter()
        site = generate_site(workdir / "site", args.stories, seed=args.seed)
        print(
            f"generated {args.stories:,} stories, {max(1, args.stories // 10):,} members, "
            f"{max(1, args.stories // 20):,} events in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        figures: dict[str, object] = {
            "stories": args.stories,
            "cpus": os.cpu_count(),
            "previous_output": "deleted" if args.delete_between else "moved aside",
        }
        figures["disk_ms_before"] = disk_probe(workdir)
        figures.update(measure(site, args.runs, extra))
        figures.update(measure_floor(max(5, args.runs * 2 + 1)))
        figures["disk_ms_after"] = disk_probe(workdir)
        figures.update(measure_long_lived(site, max(5, args.runs * 2 + 1)))
        figures.update(measure_long_lived(site, max(5, args.runs * 2 + 1), title=True))
        for peer in peers:
            figures[peer] = COMPARE[peer](site, args.runs, extra)
        if args.json:
            print(json.dumps(figures, indent=1))
        else:
            _print(figures)
    finally:
        if _TRASH is not None:
            shutil.rmtree(_TRASH, ignore_errors=True)
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _print_serve(f: dict[str, object], key: str, runs: Callable[[str], str]) -> None:
    print(
        f"  in serve's builder:{f[key]:6.2f} s   (CPU {f[f'{key}_cpu']:.2f} s; "
        f"runs: {runs(f'{key}_runs')}; "
        f"first rebuild {f[f'{key}_first']:.2f} s; rendered {f[f'{key}_rendered']})"
    )
    print(
        f"  then its check:    {f[f'{key}_check']:6.2f} s   (every input scanned for changes"
        " the watcher missed, after the tabs reloaded)"
    )


def _print(f: dict[str, object]) -> None:
    def runs(key: str) -> str:
        return ", ".join(f"{x:.2f}" for x in f[key])  # type: ignore[attr-defined]

    cpu = f["cpu"]
    user, system = f["cpu_user"], f["cpu_system"]
    print(f"stories: {f['stories']:,}   output files: {f['files']:,}   cpus: {f['cpus']}")
    print("medians of wall time; CPU = user + system seconds of the build and its workers")
    print(f"before each clean build, the previous output was {f['previous_output']}")
    print(
        f"disk probe: a new folder with a 20 KB file takes {f['disk_ms_before']:.2f} ms "
        f"(before the runs), {f['disk_ms_after']:.2f} ms (after)"
    )
    print(
        f"cold build:        {f['cold']:7.2f} s   (CPU {cpu['cold']:.2f} s = "  # type: ignore[index]
        f"user {user['cold']:.2f} + system {system['cold']:.2f}; "  # type: ignore[index]
        f"runs: {runs('cold_runs')})"
    )
    print(
        f"no change:         {f['nochange']:7.2f} s   (CPU {cpu['nochange']:.2f} s; "  # type: ignore[index]
        f"runs: {runs('nochange_runs')}; "
        f"rendered {f['nochange_rendered']}, wrote {f['nochange_written']})"
    )
    print(
        f"one story edited:  {f['edited']:7.2f} s   (CPU {cpu['edited']:.2f} s; "  # type: ignore[index]
        f"runs: {runs('edited_runs')}; "
        f"rendered {f['edit_rendered']}, wrote {f['edit_written']})"
    )
    _print_serve(f, "serve_edited", runs)
    print(
        f"newest story retitled:{f['retitled']:5.2f} s   (CPU {cpu['retitled']:.2f} s; "  # type: ignore[index]
        f"runs: {runs('retitled_runs')}; "
        f"rendered {f['retitle_rendered']}, wrote {f['retitle_written']}: its page, its"
        " neighbour's, the lists, tag and member pages showing its card, the feeds,"
        " the outbox)"
    )
    _print_serve(f, "serve_retitled", runs)
    print(
        f"a new process:     {f['floor']:7.2f} s   (runs: {runs('floor_runs')}; Python"
        " starting and importing Jinja2, markdown-it-py and PyYAML, before it reads a"
        " file: less than any fresh `commsite build` that renders a page can take)"
    )
    print(f"pages per second:  {f['pages_per_second']:7.0f}    ({f['html_pages']:,} HTML pages)")
    print(f"peak memory:       {f['peak_rss_mib']:7.0f} MiB")
    for key, name in (("pelican", "Pelican"), ("eleventy", "Eleventy")):
        peer = f.get(key)
        if not isinstance(peer, dict):
            continue
        version = f" {peer[f'{key}_version']}" if f"{key}_version" in peer else ""
        print(
            f"clean build vs {name}{version}: commsite {peer['commsite']:.2f} s, "
            f"{name} {peer[key]:.2f} s: {name} takes {peer['ratio']:.2f}x as long "
            f"(it wrote {peer[f'{key}_files']:,} files, commsite {peer['commsite_files']:,})"
        )
        user, system = peer["cpu_user"], peer["cpu_system"]
        print(
            f"  runs: commsite {', '.join(f'{x:.2f}' for x in peer['commsite_runs'])}; "
            f"{name} {', '.join(f'{x:.2f}' for x in peer[f'{key}_runs'])}; "
            f"CPU: commsite user {user['commsite']:.2f} + system {system['commsite']:.2f} s, "
            f"{name} user {user[key]:.2f} + system {system[key]:.2f} s; "
            f"disk probe after them {peer['disk_ms_after']:.2f} ms"
        )


if __name__ == "__main__":
    raise SystemExit(main())
