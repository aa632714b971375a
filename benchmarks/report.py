"""How long `commsite report` takes on a synthetic community site.

    python benchmarks/report.py [--stories 2000] [--runs 3]

The site is build.py's (N stories, N/10 members, N/20 events), plus the
interactions a lively community would have exported: 0-6 replies per story
(a third from members; half answer an earlier reply), an introduction per
ten members, likes and boosts with who gave them, and 5-40 RSVPs per event
of every kind. It prints the median of --runs runs of `commsite report`
(charts and HTML) and of `commsite report --json`, each in a fresh process.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from build import EPOCH, generate_site

ANSWERS = [("going", "reply"), ("going", "poll"), ("going", "join"), ("maybe", "tentative"),
           ("going", "accept"), ("not_going", "reject"), ("maybe", "poll")]  # fmt: skip


def _person(rng: random.Random, members: int) -> tuple[str, str, str]:
    if rng.random() < 0.35:
        i = rng.randrange(members)
        return f"Member {i}", f"@m{i}@members.example", f"https://members.example/users/m{i}"
    i = rng.randrange(members * 5)
    return f"Guest {i}", f"@g{i}@guests.example", f"https://guests.example/users/g{i}"


def _author(rng: random.Random, members: int) -> str:
    name, handle, actor = _person(rng, members)
    host = actor.split("/")[2]
    return (
        f"author_name: {name}\nauthor_handle: '{handle}'\n"
        f"author_url: https://{host}/@{handle.split('@')[1]}\nauthor_actor: {actor}\n"
    )


def add_interactions(root: Path, seed: int = 2) -> int:
    rng = random.Random(seed)
    stories = sorted(p.stem[11:] for p in (root / "content" / "stories").glob("*.md"))
    events = sorted(p.stem[11:] for p in (root / "content" / "events").glob("*.md"))
    members = len(list((root / "content" / "members").glob("*.md")))
    ix = root / "interactions"
    n = 0
    for slug in stories:
        folder = ix / "replies" / "stories" / slug
        earlier: list[str] = []
        for _ in range(rng.randint(0, 6)):
            n += 1
            ap_id = f"https://guests.example/notes/{n}"
            parent = (
                rng.choice(earlier)
                if earlier and rng.random() < 0.5
                else (f"https://bench.example/ap/stories/{slug}")
            )
            when = EPOCH.replace(month=rng.randint(1, 5), day=rng.randint(1, 28))
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{n:06d}.md").write_text(
                f"---\nid: {ap_id}\nkind: reply\ntarget: stories/{slug}\nin_reply_to: {parent}\n"
                f"{_author(rng, members)}published: '{when.isoformat()}'\n---\n<p>Reply {n}.</p>\n",
                encoding="utf-8",
            )
            earlier.append(ap_id)
    (ix / "introductions").mkdir(parents=True, exist_ok=True)
    for i in range(members // 10):
        when = EPOCH.replace(month=rng.randint(1, 5), day=rng.randint(1, 28))
        (ix / "introductions" / f"{i:05d}.md").write_text(
            f"---\nid: https://guests.example/intro/{i}\nkind: introduction\n"
            f"{_author(rng, members)}published: '{when.isoformat()}'\ntags: [introduction]\n"
            f"---\n<p>Hello #introduction</p>\n",
            encoding="utf-8",
        )
    lines = []
    for slug in stories[::3]:
        people = {_person(rng, members) for _ in range(rng.randint(1, 8))}
        lines.append(f"stories/{slug}:\n  likes: {len(people) + 2}\n  boosts: 0\n  by:")
        for name, handle, actor in sorted(people):
            lines.append(
                f"  - kind: like\n    author_name: {name}\n    author_handle: '{handle}'\n"
                f"    author_url: {actor}\n    author_actor: {actor}"
            )
    (ix / "reactions.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (ix / "rsvps").mkdir(parents=True, exist_ok=True)
    for slug in events:
        entries = []
        for name, handle, actor in sorted(
            {_person(rng, members) for _ in range(rng.randint(5, 40))}
        ):
            answer, via = rng.choice(ANSWERS)
            entries.append(
                f"- author_name: {name}\n  author_handle: '{handle}'\n  author_url: {actor}\n"
                f"  author_actor: {actor}\n  answer: {answer}\n  via: {via}\n"
                f"  answered: '{EPOCH.isoformat()}'"
            )
        (ix / "rsvps" / f"{slug}.yaml").write_text("\n".join(entries) + "\n", encoding="utf-8")
    return n


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(args: list[str], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (user + system) of the runs."""
    times, cpu = [], []
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(EPOCH.timestamp()))}
    for _ in range(runs):
        start, used = time.perf_counter(), _cpu()
        subprocess.run(
            [sys.executable, "-m", "commsite", "report", *args],
            check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        times.append(time.perf_counter() - start)
        cpu.append(_cpu() - used)
    return statistics.median(times), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="commsite-report-bench-") as tmp:
        root = Path(tmp) / "site"
        generate_site(root, options.stories)
        replies = add_interactions(root)
        full = _time([str(root)], options.runs)
        numbers = _time(["--json", str(root)], options.runs)
    print(
        f"commsite report, {options.stories:,} stories and {replies:,} replies:"
        f" {full[0]:.2f} s ({full[1]:.2f} s CPU) with charts and HTML,"
        f" {numbers[0]:.2f} s ({numbers[1]:.2f} s CPU) --json"
        f" (median of {options.runs} fresh processes)"
    )


if __name__ == "__main__":
    main()
