"""The fast engine (markdown-it-pyrs) gives the reference engine's answers, byte for byte.

`commsite.markdown.render_markdown` renders a body with markdown-it-pyrs
(`commsite.markdown_rust`) unless it declines, and then with stock
markdown-it-py; `render_reference` always uses markdown-it-py. For every input
below the two must give the same HTML, summary, rule items and links (the
addresses; their lines are compared on prose, where the reference's line
count is exact: it loses lines inside code spans and image descriptions, which
the fast engine reads from its source map). Inputs: the CommonMark spec
examples, markdown-it-py's table, strikethrough, task list and regression
fixtures, footnote cases, the example site, the golden and fixture sites,
generated stories (benchmarks/build.py's generator) and random texts mixing
block openings with inline syntax (COMMSITE_MD_FUZZ=N for more; CI runs the
default). tests/fixtures/markdown/README.md says where the fixtures come from.

The fast engine must also take most real bodies (the generated stories and
the example site): a parity that held because it declined everything would
prove nothing.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import random
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from markdown_it.utils import read_fixture_file
from packaging.requirements import Requirement

from commsite import markdown as reference
from commsite.markdown import RenderedMarkdown, render_markdown, render_reference
from commsite.markdown_rust import _MD as FAST_ENGINE
from commsite.markdown_rust import render_fast

render_fast_tree = FAST_ENGINE.tree

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "markdown"

SPEC = json.loads((FIXTURES / "commonmark.json").read_text(encoding="utf-8"))
UPSTREAM_FILES = [
    "tables.md",
    "strikethrough.md",
    "tasklists.md",
    "commonmark_extras.md",
    "issue-fixes.md",
    "fatal.md",
]
UPSTREAM = [
    pytest.param(text, id=f"{name}:{line}")
    for name in UPSTREAM_FILES
    for line, _title, text, _html in read_fixture_file(FIXTURES / name)
]
FOOTNOTES = [
    pytest.param(text, html, id=f"footnotes.md:{line}")
    for line, _title, text, html in read_fixture_file(FIXTURES / "footnotes.md")
]


def _taken_fast(text: str) -> bool:
    """Whether the fast engine renders `text` itself (it did not decline)."""
    if not text.endswith("\n"):
        text += "\n"
    return (
        render_fast(
            text,
            heading_id=reference.heading_id,
            code_block=reference.code_block,
            fence_lang=reference.fence_lang,
            html_links=reference._html_links,
            normalize_link=reference._MD.normalizeLink,
            summary_limit=reference.SUMMARY_LENGTH,
        )
        is not None
    )


def _answer(r: RenderedMarkdown, lines: bool) -> tuple[object, ...]:
    links = r.links if lines else tuple((a, image) for a, _line, image in r.links)
    alt = r.missing_alt if lines else len(r.missing_alt)
    return (r.html, r.summary, r.rule_items, r.rule_start, links, alt)


def _differs(text: str, *, lines: bool = False) -> bool:
    return _answer(render_markdown(text), lines) != _answer(render_reference(text), lines)


def _load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "benchmarks" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("example", SPEC, ids=[f"spec-{e['example']}-{e['section']}" for e in SPEC])
def test_commonmark_spec_examples(example: dict[str, str]) -> None:
    assert not _differs(example["markdown"])


def test_the_fast_engine_takes_most_spec_examples() -> None:
    taken = sum(_taken_fast(e["markdown"]) for e in SPEC)
    assert taken > 0.6 * len(SPEC), f"{taken} of {len(SPEC)}"


@pytest.mark.parametrize("text", UPSTREAM)
def test_markdown_it_py_fixtures(text: str) -> None:
    assert not _differs(text)


@pytest.mark.parametrize(("text", "html"), FOOTNOTES)
def test_footnote_cases(text: str, html: str) -> None:
    assert not _differs(text)
    assert render_markdown(text).html == html


def _site_texts(*roots: Path) -> list[str]:
    files = [p for r in roots for p in sorted(r.rglob("*.md"))]
    texts = [p.read_bytes().decode("utf-8", "replace") for p in files]
    # Whole files (front matter is Markdown too: "---" lines, setext headings) and bodies.
    return texts + [
        t.split("\n---\n", 1)[1] for t in texts if t.startswith("---\n") and "\n---\n" in t
    ]


def test_example_site_content() -> None:
    texts = _site_texts(ROOT / "example_site" / "content")
    assert len(texts) > 20
    assert [i for i, t in enumerate(texts) if _differs(t, lines=True)] == []
    taken = sum(map(_taken_fast, texts))
    assert taken > 0.8 * len(texts), f"{taken} of {len(texts)}"


def test_golden_and_fixture_sites() -> None:
    texts = _site_texts(Path(__file__).parent / "golden", Path(__file__).parent / "fixtures")
    assert len(texts) > 20
    assert [i for i, t in enumerate(texts) if _differs(t)] == []


def test_generated_stories() -> None:
    story_body: Callable[[random.Random], str] = _load_benchmark().story_body
    rng = random.Random(20261122)
    texts = [story_body(rng) for _ in range(300)]
    assert [i for i, t in enumerate(texts) if _differs(t, lines=True)] == []
    assert sum(map(_taken_fast, texts)) >= 290


# Lines that start (or almost start) every kind of block, at several indents,
# and inline syntax to follow them.
BLOCKS = [
    "plain words", "Text with | a pipe", "| a | b |", "|---|---|", "a | b", "--- | ---",
    ":-: | -:", "- item", "-", "* star", "+ plus", "1. one", "2) two", "10. ten",
    "1.no space", "> quote", ">", "# head", "#nohead", "###### six", "===", "---", "***",
    "_ _ _", "```", "```py", "~~~", "<div>", "</div>", "<!-- c -->", "<span>inline</span>",
    "[^n]: note", "[^n]", "[ref]: /url", "[ref]", "- [ ] task", "- [x] done", "\tTabbed",
    "\t- tab list", "", "", "",
]  # fmt: skip
INLINES = [
    "*em*", "**strong**", "_u_", "__uu__", "~~del~~", "`code`", "``a`b``", "[link](/x/)",
    '[l](<a b> "t")', "![alt](/i.png)", '![*a*](/i.png "t")', "<http://a.b/c>", "<a@b.co>",
    "<b>", "</b>", "&amp;", "&#35;", "\\*", "\\", "  ", "é", "ü*", "*ü", "日本", "😀", "[a]",
    "](x)", "[x]: /y", "a_b_c", "**a*b***", "<img src=x>", "http://x.y", "#tag",
    "@user@host", "\t", "~", "[![a](b)](c)", "*a **b** c*", "*", "_", "`", "[", "]", "<",
    "!", '"', "|",
]  # fmt: skip
INDENTS = ["", "", "", " ", "  ", "   ", "    ", "     "]


def _line(rng: random.Random) -> str:
    head = rng.choice(INDENTS) + rng.choice(BLOCKS)
    return head + "".join(
        rng.choice([" ", "", " ", "x"]) + rng.choice(INLINES) for _ in range(rng.randint(0, 6))
    )


def _soup(rng: random.Random) -> str:
    lines = [_line(rng) for _ in range(rng.randint(1, 10))]
    return "\n".join(lines) + rng.choice(["", "\n"])


def test_random_texts() -> None:
    count = int(os.environ.get("COMMSITE_MD_FUZZ", "2000"))
    rng = random.Random(int(os.environ.get("COMMSITE_MD_FUZZ_SEED", "1")))
    texts = [_soup(rng) for _ in range(count)]
    assert [t for t in texts if _differs(t)] == []
    assert sum(map(_taken_fast, texts)) > 0.15 * count


def test_an_input_that_makes_markdown_it_rs_panic_falls_back() -> None:
    text = "[foo `bar` baz`\n"  # markdown-it.rs 0.6 indexes past the end of a code span here
    with pytest.raises(BaseException, match="index out of bounds"):
        render_fast_tree(text)
    assert not _taken_fast(text)
    assert render_markdown(text) == render_reference(text)


def test_text_without_a_final_newline_renders_as_with_one() -> None:
    assert render_markdown("<div>x</div>") == render_markdown("<div>x</div>\n")
    assert render_reference("<div>x</div>") == render_markdown("<div>x</div>")


def test_link_lines_are_exact_where_the_reference_loses_count() -> None:
    text = "A `code\nspan` and\n[a link](/x/)\n"
    assert render_markdown(text).links == (("/x/", 2, False),)


@pytest.mark.parametrize("distribution", ["markdown-it-py", "markdown-it-pyrs", "mdit-py-plugins"])
def test_the_installed_engines_are_in_the_tested_ranges(distribution: str) -> None:
    """pyproject.toml pins each engine to the versions these tests passed with: a newer
    release may render differently, so it must be tested (here) before the pin moves."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = {Requirement(d).name: Requirement(d) for d in project["project"]["dependencies"]}
    pin = pins[distribution]
    assert pin.specifier and any(s.operator == "<" for s in pin.specifier), f"{pin}: no upper bound"
    installed = importlib.metadata.version(distribution)
    assert pin.specifier.contains(installed, prereleases=True), f"{distribution} {installed}: {pin}"
