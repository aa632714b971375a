"""What the search index costs a build: the same synthetic site with search on
and off, built alternately in fresh processes.

    python benchmarks/search_ab.py --stories 2000 [--runs 3]

For each run, in turn for `search: true` and `search: false`: a clean build
(no output, no cache), a build with nothing changed, a build after one story's
body changed (which makes the index again) and one after the rules changed
(which does not). Prints the medians side by side, their ratio, and the size
of the search bundle.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import generate_site  # (benchmarks/build.py)

STEPS = ("clean", "no change", "one story edited", "rules edited")


def _build(site: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "commsite", "build", str(site)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the build of {site} failed:\n{done.stderr}")
    return seconds


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _run(site: Path, n: int) -> dict[str, float]:
    shutil.rmtree(site / "public", ignore_errors=True)
    shutil.rmtree(site / ".public.commsite", ignore_errors=True)
    shutil.rmtree(site / ".commsite", ignore_errors=True)
    times = {"clean": _build(site), "no change": _build(site)}
    story = sorted((site / "content" / "stories").glob("*.md"))[n]
    _append(story, f"\nOne more line, number {n}.\n")
    times["one story edited"] = _build(site)
    _append(site / "content" / "rules.md", f"{4 + n}. Tidy up, number {n}.\n")
    times["rules edited"] = _build(site)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="commsite-search-ab-"))
    try:
        on = generate_site(work / "on", args.stories)
        off = work / "off"
        shutil.copytree(on.root, off)
        _append(off / "commsite.yaml", "search: false\n")
        results: dict[str, dict[str, list[float]]] = {
            "on": {s: [] for s in STEPS},
            "off": {s: [] for s in STEPS},
        }
        for n in range(args.runs):
            for name, site in (("on", work / "on"), ("off", off)):
                for step, seconds in _run(site, n).items():
                    results[name][step].append(seconds)
        bundle = work / "on" / "public" / "pagefind"
        files = [p for p in bundle.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        print(f"stories: {args.stories:,}   runs: {args.runs} (alternating, medians of wall time)")
        print(f"{'':18}{'search on':>11}{'search off':>12}{'on / off':>10}")
        for step in STEPS:
            a = statistics.median(results["on"][step])
            b = statistics.median(results["off"][step])
            print(f"{step:18}{a:10.2f}s{b:11.2f}s{a / b:10.2f}")
        print(f"search bundle: {len(files):,} files, {size / 1024:,.0f} KiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
