"""`commsite build` in new processes, one installation against another, alternated.

    python benchmarks/build_ab.py --old /path/to/old/venv/bin/commsite \\
        [--new .venv/bin/commsite] [--stories 2000] [--rounds 4]

The machine's speed moves by a quarter within an hour, more than most changes to
measure; both installations are run in turn in the same minutes, each on its own
copy of one generated site (build.py's generator), and the figures are the
medians and their ratio (new/old), wall and CPU (user + system, children
included). Each round, for each installation in turn (the order alternates):

* cold: no output, no build cache;
* no change: build again;
* first edit: one story's body changed, the first build with changes after a
  clean one (the output switch makes its copy of the previous site here);
* next edit: another story's body changed.

To get an old installation: `git worktree add /tmp/old COMMIT`,
`python3 -m venv /tmp/oldvenv && /tmp/oldvenv/bin/pip install -e /tmp/old`,
then `--old /tmp/oldvenv/bin/commsite`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import generate_site  # (the benchmark's own generator)

STEPS = ("cold", "no change", "first edit", "next edit")


def _build(commsite: str, site: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `commsite build SITE` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([commsite, "build", str(site)], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{commsite} build failed:\n{done.stdout}{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def _append(story: Path, text: str) -> None:
    story.write_text(story.read_text(encoding="utf-8") + f"\n\n{text}\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help="the other installation's commsite")
    parser.add_argument("--new", default=str(Path(sys.executable).parent / "commsite"))
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--search",
        action="store_true",
        help="keep the search index on (off by default: benchmarks/search_ab.py measures it)",
    )
    args = parser.parse_args(argv)
    env = dict(os.environ, SOURCE_DATE_EPOCH="1790000000")
    work = Path(tempfile.mkdtemp(prefix="commsite-build-ab-"))
    try:
        generate_site(work / "site", args.stories)
        if not args.search:  # (an installation from before search warns of the key)
            with (work / "site" / "commsite.yaml").open("a", encoding="utf-8") as config:
                config.write("search: false\n")
        sites = {}
        for name in ("old", "new"):
            sites[name] = work / name
            shutil.copytree(work / "site", sites[name])
        commsite = {"old": args.old, "new": args.new}
        figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
                site = sites[name]
                for leftover in ("public", ".public.commsite", ".commsite/build-cache"):
                    shutil.rmtree(site / leftover, ignore_errors=True)
                stories = sorted((site / "content" / "stories").glob("*.md"))
                for step in STEPS:
                    if step == "first edit":
                        _append(stories[len(stories) // 3], f"Edited in round {r}.")
                    elif step == "next edit":
                        _append(stories[len(stories) // 2], f"Edited again in round {r}.")
                    figures.setdefault((name, step), []).append(_build(commsite[name], site, env))
            print(f"round {r + 1} of {args.rounds} done", file=sys.stderr)
        print(f"{args.stories} stories, {args.rounds} rounds, medians (new/old):")
        for step in STEPS:
            old, new = figures[("old", step)], figures[("new", step)]
            ow, nw = (statistics.median(w for w, _ in f) for f in (old, new))
            oc, nc = (statistics.median(c for _, c in f) for f in (old, new))
            print(
                f"  {step:10s} wall {ow:6.2f} s -> {nw:6.2f} s ({nw / ow:4.2f})"
                f"   cpu {oc:6.2f} s -> {nc:6.2f} s ({nc / oc:4.2f})"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
