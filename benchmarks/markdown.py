"""Markdown rendering: commsite's MarkdownIt against the same one without its fast rules.

    python benchmarks/markdown.py [--stories 400] [--runs 7] [--seed 1]

Renders N story bodies made by build.py's generator (about 800 words of varied
Markdown each) with a stock MarkdownIt (commonmark, raw HTML, tables,
strikethrough, footnotes, task lists, heading ids, Pygments fences: what
commsite used before commsite.markdown_rules) and with commsite's own (the
same plus markdown_rules). It first checks that both give the same HTML for
every body, then alternates the two, and prints CPU milliseconds per story
(process time, the median of --runs runs) for the whole of render_markdown and
for the parse alone, and the ratios.
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
from markdown_it import MarkdownIt

from commsite.markdown import _build, _render


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
    engines: dict[str, MarkdownIt] = {"stock": _build(fast=False), "ours": _build()}
    differ = sum(
        _render(engines["stock"], t, False) != _render(engines["ours"], t, False) for t in texts
    )
    if differ:
        print(f"{differ} of {len(texts)} bodies render differently", file=sys.stderr)
        return 1

    kinds: dict[str, Callable[[MarkdownIt], Callable[[str], object]]] = {
        "render_markdown": lambda md: lambda t: _render(md, t, False),
        "parse only": lambda md: lambda t: md.parse(t, {"rule_anchors": False}),
    }
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.runs):
        for kind, work in kinds.items():
            for name, md in engines.items():
                times.setdefault((kind, name), []).append(_per_story_ms(work(md), texts))

    print(
        f"{len(texts)} story bodies ({sum(map(len, texts)) // len(texts)} characters each), "
        f"identical HTML; CPU ms per story, median of {args.runs} runs:"
    )
    for kind in kinds:
        stock = statistics.median(times[(kind, "stock")])
        ours = statistics.median(times[(kind, "ours")])
        print(f"  {kind:16} stock {stock:6.3f}  ours {ours:6.3f}  stock/ours {stock / ours:4.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
