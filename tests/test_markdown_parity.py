"""commsite.markdown_rules changes how much work markdown-it-py does, never its answer.

Every input is parsed by commsite's MarkdownIt and by the same one built without
markdown_rules (stock markdown-it-py rules); tokens, HTML, summary and rule items
must be equal. Inputs: the CommonMark spec examples, markdown-it-py's table,
strikethrough, task list and regression fixtures, footnote cases, the example
site, generated stories (benchmarks/build.py's generator) and random mixtures
of block openings. tests/fixtures/markdown/README.md says where the fixtures
come from.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import logging
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from markdown_it import MarkdownIt, rules_block
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import read_fixture_file

from commsite import markdown_rules
from commsite.markdown import _build, _render

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "markdown"
STOCK = _build(fast=False)
FAST = _build()

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


def _differences(fast: MarkdownIt, stock: MarkdownIt, text: str) -> list[str]:
    """What differs between the two parsers' answers for `text` (nothing, we hope)."""
    found = []
    ours, theirs = fast.parse(text, {}), stock.parse(text, {})
    if ours != theirs:
        found.append(f"tokens differ: {_first_difference(ours, theirs)}")
    # The HTML, summary and rule items, with the rules page's anchors on.
    if _render(fast, text, True) != _render(stock, text, True):
        found.append("render_markdown differs")
    return found


def _first_difference(ours: list[Token], theirs: list[Token]) -> str:
    for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        if a != b:
            return f"token {i}: {a.as_dict()} != {b.as_dict()}"
    return f"{len(ours)} tokens != {len(theirs)} tokens"


def _load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "benchmarks" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_stock_parser_is_stock_and_ours_is_not() -> None:
    assert STOCK.block.ruler.getRules("")[-1] is rules_block.paragraph
    assert "dispatch" not in STOCK.block.ruler.get_all_rules()
    assert FAST.block.ruler.getRules("")[-1] is markdown_rules.paragraph
    assert FAST.block.ruler.getRules("")[0] is markdown_rules.dispatch


def test_installing_twice_changes_nothing() -> None:
    md = _build()
    rules = md.block.ruler.get_all_rules()
    markdown_rules.install(md)
    assert md.block.ruler.get_all_rules() == rules
    assert _differences(md, STOCK, "Text\n- item\n\n# Head\n") == []


# What markdown_rules changed in upstream's paragraph and lheading (regular
# expression, replacement), in the source of markdown-it-py 3.0 to 4.3.
COPY_EDITS = [
    (r"LOGGER\.debug\(", "_{NAME}_LOG.debug("),
    (
        r"ruler = state\.md\.block\.ruler\n\s*terminatorRules = ruler\.getRules\(\"paragraph\"\)",
        'terminators = _chain_candidates(state, "paragraph")',
    ),
    (r"in terminatorRules:", "in terminators.rules(state, nextLine):"),
    (r"mdTrim\((state\.getLines\([^)]*\))\)", r"_trim(\1)"),  # 4.3
    (r"(state\.getLines\([^)]*\))\.strip\(\)", r"_trim(\1)"),  # before 4.3
    (
        r"(# Didn't find valid underline\n\s*)return False",
        r"\1return _paragraph_instead(state, startLine, nextLine, endLine, silent)",
    ),
]


@pytest.mark.parametrize("name", ["paragraph", "lheading"])
def test_the_copied_rules_are_the_installed_upstream_ones(name: str) -> None:
    """If this fails, markdown-it-py changed the rule: copy it into markdown_rules again."""
    source = inspect.getsource(getattr(rules_block, name))
    for pattern, replacement in COPY_EDITS:
        source = re.sub(pattern, replacement.replace("{NAME}", name.upper()), source)
    ours = inspect.getsource(getattr(markdown_rules, name))
    assert ast.dump(ast.parse(source)) == ast.dump(ast.parse(ours))


@pytest.mark.parametrize("example", SPEC, ids=[f"spec-{e['example']}-{e['section']}" for e in SPEC])
def test_commonmark_spec_examples(example: dict[str, str]) -> None:
    assert _differences(FAST, STOCK, example["markdown"]) == []


@pytest.mark.parametrize("text", UPSTREAM)
def test_markdown_it_py_fixtures(text: str) -> None:
    assert _differences(FAST, STOCK, text) == []


@pytest.mark.parametrize(("text", "html"), FOOTNOTES)
def test_footnote_cases(text: str, html: str) -> None:
    assert _differences(FAST, STOCK, text) == []
    assert FAST.render(text) == html


def test_example_site_content() -> None:
    paths = sorted((ROOT / "example_site" / "content").rglob("*.md"))
    assert len(paths) > 10
    texts = [p.read_text(encoding="utf-8") for p in paths]
    # Whole files (front matter is Markdown too: "---" lines, setext headings) and bodies.
    texts += [t.split("\n---\n", 1)[1] for t in texts if t.startswith("---\n") and "\n---\n" in t]
    differ = {i: d for i, t in enumerate(texts) if (d := _differences(FAST, STOCK, t))}
    assert differ == {}


def test_generated_stories() -> None:
    story_body: Callable[[random.Random], str] = _load_benchmark().story_body
    rng = random.Random(20261122)
    differ = {}
    for i in range(300):
        text = story_body(rng)
        if found := _differences(FAST, STOCK, text):
            differ[i] = (found, text)
    assert differ == {}


# Lines that start (or almost start) every kind of block, at several indents.
PIECES = [
    "plain words",
    "Text with | a pipe",
    "| a | b |",
    "|---|---|",
    "a | b",
    "--- | ---",
    ":-: | -:",
    "- item",
    "-",
    "* star",
    "+ plus",
    "1. one",
    "2) two",
    "10. ten",
    "1.no space",
    "> quote",
    ">",
    "# head",
    "#nohead",
    "###### six",
    "===",
    "---",
    "***",
    "_ _ _",
    "```",
    "```py",
    "~~~",
    "<div>",
    "</div>",
    "<!-- c -->",
    "<span>inline</span>",
    "[^n]: note",
    "[^n]",
    "[ref]: /url",
    "[ref]",
    "- [ ] task",
    "- [x] done",
    "\tTabbed",
    "\t- tab list",
    "",
    "",
    "",
]
INDENTS = ["", "", "", " ", "  ", "   ", "    ", "     "]


def _soup(rng: random.Random) -> str:
    lines = [rng.choice(INDENTS) + rng.choice(PIECES) for _ in range(rng.randint(1, 14))]
    return "\n".join(lines) + rng.choice(["", "\n"])


def test_random_mixtures_of_block_openings() -> None:
    rng = random.Random(1)
    differ = {}
    for i in range(3000):
        text = _soup(rng)
        if _differences(FAST, STOCK, text):
            differ[i] = text
    assert differ == {}


def _percent_rule(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    """A block rule the fast rules do not know: a line starting with "%"."""
    pos = state.bMarks[startLine] + state.tShift[startLine]
    if state.is_code_block(startLine) or state.src[pos] != "%":
        return False
    if not silent:
        token = state.push("percent", "hr", 0)
        token.map = [startLine, startLine + 1]
    state.line = startLine + 1
    return True


@pytest.mark.parametrize("before", ["table", "heading", "lheading", "paragraph"])
def test_a_rule_added_later_is_still_asked(before: str) -> None:
    fast, stock = _build(), _build(fast=False)
    for md in (fast, stock):
        md.block.ruler.before(before, "percent", _percent_rule, {"alt": ["paragraph"]})
    text = "Prose\n% interrupts\nmore prose\n\n% starts\n\n> quote\n% inside\n- item\n  % in item\n"
    assert "percent" in [t.type for t in stock.parse(text)]
    assert _differences(fast, stock, text) == []


def test_prose_is_offered_to_lheading_and_paragraph_only(caplog: pytest.LogCaptureFixture) -> None:
    # The upstream block rules log each call at DEBUG: a count of work, not of time.
    text = "Some prose\nover two lines.\n\n- a list\n  of one item\n\nMore prose.\n"
    caplog.set_level(logging.DEBUG, logger="markdown_it")
    STOCK.parse(text)
    stock = [r.getMessage().split(":")[0] for r in caplog.records]
    caplog.clear()
    FAST.parse(text)
    fast = [r.getMessage().split(":")[0] for r in caplog.records]
    never = {"entering code", "entering heading", "entering html_block", "entering reference"}
    assert never <= set(stock)
    # "- a list" goes to the rules "-" may start (hr, list), prose to lheading and
    # paragraph. (The list rule itself still asks fence, blockquote and hr whether
    # "More prose." ends the item.)
    assert {"entering hr", "entering list", "entering lheading", "entering paragraph"} <= set(fast)
    assert not never & set(fast)
    assert len(fast) < len(stock) / 2


def _block_tokens(md: MarkdownIt, text: str, end: int) -> list[Token]:
    state = StateBlock(text, md, {}, [])
    md.block.tokenize(state, 0, end)
    return state.tokens


def test_lheading_makes_the_paragraph_only_when_paragraph_would_scan_the_same_lines() -> None:
    """A failing lheading makes the paragraph itself only where upstream's paragraph,
    the next rule, would scan the lines it scanned: not when asked silently, nor
    when its end line is not the state's last (paragraph scans to that)."""
    text = "one\ntwo\nthree\nfour\n"
    for end in (2, 4):
        ours, theirs = _block_tokens(FAST, text, end), _block_tokens(STOCK, text, end)
        assert [(t.type, t.map, t.content) for t in ours] == [
            (t.type, t.map, t.content) for t in theirs
        ]
    assert _block_tokens(STOCK, text, 2)[1].content == "one\ntwo\nthree\nfour"
    state = StateBlock(text, FAST, {}, [])
    assert markdown_rules.lheading(state, 0, state.lineMax, True) is False
    assert state.tokens == []


def _zed_inline(state: StateInline, silent: bool) -> bool:
    """An inline rule the fast path does not know, on a letter: "Z" becomes a "zed"
    token (a letter does not stop the ``text`` rule, so only a rule before it, or
    one whose plugin adds the letter to what stops it, ever sees one)."""
    if state.src[state.pos] != "Z":
        return False
    if not silent:
        state.push("zed", "", 0)
    state.pos += 1
    return True


@pytest.mark.skipif(
    not hasattr(STOCK.inline, "terminator_re"), reason="markdown-it-py < 4.3: no fast path"
)
def test_plain_inline_text_skips_the_inline_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table cell, a heading or an item with no character an inline rule reacts to
    becomes its text token without the inline parser (same tokens: the tests above)."""
    text = "# A plain heading\n\n| a | b |\n|---|---|\n| one | *two* |\n\n- item\n- item *em*\n"
    assert _differences(FAST, STOCK, text) == []
    assert _inline_parses(monkeypatch, text) == ["*two*", "item *em*"]


def _inline_parses(monkeypatch: pytest.MonkeyPatch, text: str) -> list[str]:
    """The contents the inline parser got while FAST parsed `text`."""
    calls: list[str] = []
    parse = FAST.inline.parse

    def counted(src: str, *rest: object) -> object:
        calls.append(src)
        return parse(src, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(FAST.inline, "parse", counted)
    FAST.parse(text)
    return calls


# Paragraphs whose only characters that stop the ``text`` rule are line breaks:
# a line ending in no, one, two or three spaces, a tab, or a tab then spaces;
# the next line starting with spaces or tabs (skipped) or other white space
# (kept); in quotes, list items and after indented code.
BREAKS = [
    "one\ntwo",
    "one \ntwo",
    "one  \ntwo",
    "one   \ntwo",
    "one\t\ntwo",
    "one\t  \ntwo",
    "one \t \ntwo",
    "one\n   two\n\t\tthree",
    "one  \n   two \n\t three",
    "> quoted\n> lines  \n> here",
    "- item\n  over  \n  lines",
    "1. item\n   more\n\n   and more",
    "line  \n\u00a0 nbsp",
    "\u00e9t\u00e9\nd\u2019hiver  \n\u2003em space",
    "    indented code\n    lines  \nthen prose \nafter",
]


@pytest.mark.skipif(
    not hasattr(STOCK.inline, "terminator_re"), reason="markdown-it-py < 4.3: no fast path"
)
@pytest.mark.parametrize("text", BREAKS)
def test_plain_lines_skip_the_inline_parser(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _differences(FAST, STOCK, text) == []
    assert _render(FAST, text, False).html == STOCK.render(text)
    assert _inline_parses(monkeypatch, text) == []


def _nl_inline(state: StateInline, silent: bool) -> bool:
    """An inline rule before ``newline`` that takes a line break: a "nl" token."""
    if state.src[state.pos] != "\n":
        return False
    if not silent:
        state.push("nl", "", 0)
    state.pos += 1
    return True


def test_a_rule_before_newline_turns_the_plain_lines_off() -> None:
    fast, stock = _build(), _build(fast=False)
    for md in (fast, stock):
        md.inline.ruler.before("newline", "nl", _nl_inline)
    text = "one\ntwo  \nthree\n\n# plain heading\n"
    assert "nl" in [c.type for t in stock.parse(text) for c in t.children or ()]
    assert _differences(fast, stock, text) == []


@pytest.mark.parametrize("where", ["before text", "after text", "post-processing"])
def test_an_inline_rule_added_later_is_still_asked(where: str) -> None:
    """A rule before ``text`` or an unknown post-processing rule turns the plain
    text path off; a plugin's rule on a character it adds to what stops ``text``
    keeps it (that character is no longer plain)."""
    fast, stock = _build(), _build(fast=False)
    for md in (fast, stock):
        if where == "post-processing":
            md.inline.ruler2.push("mark", lambda state: state.tokens.append(Token("x", "", 0)))
        elif where == "before text":
            md.inline.ruler.before("text", "zed", _zed_inline)
        else:  # a plugin's rule after text, on a character it adds to text's stops
            md.inline.ruler.before("newline", "zed", _zed_inline)
            md.inline.add_terminator_char("Z")
    text = "| Zed | plain |\n|---|---|\n| a | b |\n\n# Zen plain\n"
    made = "x" if where == "post-processing" else "zed"
    assert made in [c.type for t in stock.parse(text) for c in t.children or ()]
    assert _differences(fast, stock, text) == []


@pytest.mark.parametrize(
    "text",
    ["a\r\nb\r\n\r\nc", "a\rb\r\rc\r", "a\r\r\nb\n\r", "nul \0 here\r\n\0", "`\0`\r\n- x\r- y"],
)
def test_line_endings_and_nul_are_normalised_as_upstream(text: str) -> None:
    assert _differences(FAST, STOCK, text) == []
    assert _render(FAST, text, False).html == STOCK.render(text)
