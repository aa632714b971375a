"""Markdown rendering: commsite's two engines side by side.

    python benchmarks/markdown.py [--stories 400] [--runs 7] [--seed 1]

Renders N story bodies made by build.py's generator (about 800 words of varied
Markdown each) with `render_reference` (stock markdown-it-py with
mdit-py-plugins: commonmark, raw HTML, tables, strikethrough, footnotes, task
lists, heading ids, Pygments fences) and with `render_markdown` (markdown-it-pyrs
where it can, the reference where it declines). It first checks that both give
the same answers for every body and counts the bodies the fast engine took,
then alternates the two and prints CPU milliseconds per story (process time,
the median of --runs runs) and the ratio. "pyrs alone" is markdown-it-pyrs's own
render, the floor: what is left above it is the tree walk and the patches.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from build import story_body  # benchmarks/build.py, beside this file

from commsite.markdown import render_markdown, render_reference
from commsite.markdown_rust import _MD as PYRS


def bodies(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [story_body(rng) for _ in range(count)]


def _per_story_ms(work: Callable[[str], object], texts: list[str]) -> float:
    start = time.process_time()
    for text in texts:
        work(text)
    return (time.process_time() - start) / len(texts) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=400)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    texts = bodies(args.stories, args.seed)
    differ = sum(render_markdown(t) != render_reference(t) for t in texts)
    if differ:
        print(f"{differ} of {len(texts)} bodies render differently", file=sys.stderr)
        return 1

    engines: dict[str, Callable[[str], object]] = {
        "reference": render_reference,
        "render_markdown": render_markdown,
        "pyrs alone": PYRS.render,
    }
    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(args.runs):
        for name, work in engines.items():
            times[name].append(_per_story_ms(work, texts))

    print(
        f"{len(texts)} story bodies ({sum(map(len, texts)) // len(texts)} characters each), "
        f"identical answers; CPU ms per story, median of {args.runs} runs:"
    )
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, ms in medians.items():
        print(f"  {name:16} {ms:6.3f}  reference/this {medians['reference'] / ms:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
