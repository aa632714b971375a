"""Rules that give markdown-it-py's tokens with less work.

Almost every line of prose starts with a letter, and no block but a paragraph
can start with one. Upstream markdown-it-py still asks every block rule about
every such line: at each block start the whole rule chain, and inside a
paragraph (twice: ``lheading`` scans the paragraph's lines, then ``paragraph``
scans them again) every rule that may interrupt a paragraph. Each of those
rules gives up at its first test, on the line's first character, but the calls
(and their debug logging) were half of the parse time of a typical story.

`install` makes a MarkdownIt skip those calls, with the same tokens:

* ``paragraph`` and ``lheading`` are replaced by copies of the upstream rules
  (markdown-it-py 4.3.0) with two changes: of the rules that may interrupt a
  paragraph, a line is offered only to those its first character may start
  (and to all of them if it has a ``|``, for the table rule, or is indented);
  and where ``lheading`` finds no underline it makes the paragraph that
  ``paragraph``, the next rule, would make of the same lines, which it has just
  scanned (upstream scans them twice);
* a rule named ``dispatch``, first in the main chain, does the same for a line
  where a block starts: it tries the rules after it that the line's first
  character may start, then the rest of the chain (``lheading``, ``paragraph``).

and two core rules:

* ``normalize`` leaves a text with no CR and no NUL as it is;
* ``inline`` (which parses each inline token's content) makes a content with
  no character that stops the ``text`` inline rule into its one text token
  itself: most table cells, headings and short list items, each of which cost
  the inline parser a state and its rule chains (about 4.5 microseconds). A
  content whose only such characters are line breaks (a paragraph of plain
  prose) becomes its text and break tokens the same way, as upstream's
  ``newline`` rule makes them (a sixth of a typical story's parse).

What each block rule can start with is a table keyed by the rule function
itself (`_NEEDS`), checked against the chain actually registered each time it
is built: a chain that holds a rule the table does not know (a plugin added
later) is tried in full, as upstream does. Likewise every inline content goes
to the inline parser when ``text`` is not the first inline rule or the
post-processing holds a rule `_PLAIN_RULES2` does not know, and a content with
line breaks does when a rule that may see a line break comes before ``newline``.
tests/test_markdown_parity.py compares tokens against a stock MarkdownIt on the
CommonMark spec, the plugin fixtures and generated stories, which also guards
against upstream drift.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt, rules_block, rules_inline
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.footnote.index import footnote_def

try:
    from markdown_it.common.utils import mdTrim as _trim
except ImportError:  # markdown-it-py < 4.3 trimmed paragraphs with str.strip

    def _trim(string: str) -> str:
        return string.strip()


__all__ = ["install"]

BlockRule = Callable[[StateBlock, int, int, bool], bool]

# The upstream rules' own loggers, so that their debug output stays as it was.
_PARAGRAPH_LOG = logging.getLogger("markdown_it.rules_block.paragraph")
_LHEADING_LOG = logging.getLogger("markdown_it.rules_block.lheading")


@dataclass(frozen=True, slots=True)
class _Need:
    """What a line needs for a rule to match on it."""

    starts: str = ""  # one of these characters first, after the indentation
    pipe: bool = False  # a "|" somewhere (the table rule: its header row)
    indent: bool = False  # four columns of indentation or more (the code rule)


# The rules this module knows. Each returns False before doing anything else
# when the line lacks its need: see each rule's opening lines in
# markdown_it/rules_block/ and mdit_py_plugins/footnote/index.py.
_NEEDS: dict[BlockRule, _Need] = {
    rules_block.table: _Need(pipe=True),
    rules_block.code: _Need(indent=True),
    rules_block.fence: _Need("`~"),
    rules_block.blockquote: _Need(">"),
    rules_block.hr: _Need("*-_"),
    rules_block.list_block: _Need("*+-0123456789"),
    rules_block.reference: _Need("["),
    rules_block.html_block: _Need("<"),
    rules_block.heading: _Need("#"),
    footnote_def: _Need("["),
}


@dataclass(frozen=True, slots=True)
class _Candidates:
    """The rules of a chain that may match on a line, by the line's first character.

    Each tuple keeps the chain's order and ends with `tail`: rules tried on
    every line (those after ``dispatch`` that `_NEEDS` does not cover).
    """

    by_char: dict[str, tuple[BlockRule, ...]]  # the rules a character may start, then the tail
    other: tuple[BlockRule, ...]  # any other first character: the tail alone
    every: tuple[BlockRule, ...]  # the whole chain, then the tail
    pipe: bool  # a line with a "|" gets `every` (the table rule is in the chain)
    indent: bool  # so does an indented line (the code rule is in the chain)

    def rules(self, state: StateBlock, line: int) -> tuple[BlockRule, ...]:
        pos = state.bMarks[line] + state.tShift[line]
        end = state.eMarks[line]
        if (
            pos >= end
            or (self.pipe and state.src.find("|", pos, end) >= 0)
            or (self.indent and state.sCount[line] - state.blkIndent >= 4)
        ):
            return self.every
        return self.by_char.get(state.src[pos], self.other)


def _candidates(chain: Sequence[BlockRule], tail: Sequence[BlockRule] = ()) -> _Candidates:
    """Candidates from `chain`, then `tail`; every line gets all of `chain` if it
    holds a rule `_NEEDS` does not know."""
    every = (*chain, *tail)
    known: list[tuple[BlockRule, _Need]] = []
    for rule in chain:
        need = _NEEDS.get(rule)
        if need is None:
            return _Candidates(by_char={}, other=every, every=every, pipe=False, indent=False)
        known.append((rule, need))
    chars = sorted({c for _, need in known for c in need.starts})
    return _Candidates(
        by_char={c: (*(rule for rule, need in known if c in need.starts), *tail) for c in chars},
        other=tuple(tail),
        every=every,
        pipe=any(need.pipe for _, need in known),
        indent=any(need.indent for _, need in known),
    )


# Ruler.getRules returns the same list until the chain changes (enable, disable,
# a plugin adding a rule), so candidates are kept by list identity; each entry
# holds its list, so an id is not reused while it is here.
_CANDIDATES: dict[tuple[str, int], tuple[list[BlockRule], _Candidates]] = {}


def _chain_candidates(state: StateBlock, name: str) -> _Candidates:
    """The candidates of the ``paragraph`` chain, or for ``""`` of the rules after ``dispatch``."""
    rules = state.md.block.ruler.getRules(name)
    entry = _CANDIDATES.get((name, id(rules)))
    if entry is None or entry[0] is not rules:
        if len(_CANDIDATES) > 64:
            _CANDIDATES.clear()
        if name:
            candidates = _candidates(rules)
        else:
            here = end = rules.index(dispatch) + 1
            while end < len(rules) and rules[end] in _NEEDS:
                end += 1
            candidates = _candidates(rules[here:end], rules[end:])
        entry = _CANDIDATES[(name, id(rules))] = (rules, candidates)
    return entry[1]


# paragraph and lheading: markdown-it-py 4.3.0's rules_block/paragraph.py and
# rules_block/lheading.py (3.0 to 4.2 differ only in trimming: see _trim), but
# for the rules the terminator loop tries on a line: `terminators.rules(state,
# nextLine)` instead of all of `terminatorRules`. A test compares their source
# with the installed upstream rules.


def paragraph(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    _PARAGRAPH_LOG.debug("entering paragraph: %s, %s, %s, %s", state, startLine, endLine, silent)

    nextLine = startLine + 1
    terminators = _chain_candidates(state, "paragraph")
    endLine = state.lineMax

    oldParentType = state.parentType
    state.parentType = "paragraph"

    # jump line-by-line until empty one or EOF
    while nextLine < endLine:
        if state.isEmpty(nextLine):
            break
        # this would be a code block normally, but after paragraph
        # it's considered a lazy continuation regardless of what's there
        if state.sCount[nextLine] - state.blkIndent > 3:
            nextLine += 1
            continue

        # quirk for blockquotes, this line should already be checked by that rule
        if state.sCount[nextLine] < 0:
            nextLine += 1
            continue

        # Some tags can terminate paragraph without empty line.
        terminate = False
        for terminatorRule in terminators.rules(state, nextLine):
            if terminatorRule(state, nextLine, endLine, True):
                terminate = True
                break
        if terminate:
            break

        nextLine += 1

    content = _trim(state.getLines(startLine, nextLine, state.blkIndent, False))

    state.line = nextLine

    token = state.push("paragraph_open", "p", 1)
    token.map = [startLine, state.line]

    token = state.push("inline", "", 0)
    token.content = content
    token.map = [startLine, state.line]
    token.children = []

    token = state.push("paragraph_close", "p", -1)

    state.parentType = oldParentType

    return True


def lheading(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    _LHEADING_LOG.debug("entering lheading: %s, %s, %s, %s", state, startLine, endLine, silent)

    level = None
    nextLine = startLine + 1
    terminators = _chain_candidates(state, "paragraph")

    if state.is_code_block(startLine):
        return False

    oldParentType = state.parentType
    state.parentType = "paragraph"  # use paragraph to match terminatorRules

    # jump line-by-line until empty one or EOF
    while nextLine < endLine and not state.isEmpty(nextLine):
        # this would be a code block normally, but after paragraph
        # it's considered a lazy continuation regardless of what's there
        if state.sCount[nextLine] - state.blkIndent > 3:
            nextLine += 1
            continue

        # Check for underline in setext header
        if state.sCount[nextLine] >= state.blkIndent:
            pos = state.bMarks[nextLine] + state.tShift[nextLine]
            maximum = state.eMarks[nextLine]

            if pos < maximum:
                marker = state.src[pos]

                if marker in ("-", "="):
                    pos = state.skipCharsStr(pos, marker)
                    pos = state.skipSpaces(pos)

                    # /* = */
                    if pos >= maximum:
                        level = 1 if marker == "=" else 2
                        break

        # quirk for blockquotes, this line should already be checked by that rule
        if state.sCount[nextLine] < 0:
            nextLine += 1
            continue

        # Some tags can terminate paragraph without empty line.
        terminate = False
        for terminatorRule in terminators.rules(state, nextLine):
            if terminatorRule(state, nextLine, endLine, True):
                terminate = True
                break
        if terminate:
            break

        nextLine += 1

    if not level:
        # Didn't find valid underline
        return _paragraph_instead(state, startLine, nextLine, endLine, silent)

    content = _trim(state.getLines(startLine, nextLine, state.blkIndent, False))

    state.line = nextLine + 1

    token = state.push("heading_open", "h" + str(level), 1)
    token.markup = marker
    token.map = [startLine, state.line]

    token = state.push("inline", "", 0)
    token.content = content
    token.map = [startLine, state.line - 1]
    token.children = []

    token = state.push("heading_close", "h" + str(level), -1)
    token.markup = marker

    state.parentType = oldParentType

    return True


def _paragraph_instead(
    state: StateBlock, startLine: int, nextLine: int, endLine: int, silent: bool
) -> bool:
    """When ``lheading`` finds no underline: False, as upstream, unless the next rule
    of the chain is ``paragraph`` and would scan the same lines, which ``lheading``
    has just scanned. Then the paragraph ``paragraph`` would make, made here.

    Both rules stop at the first empty line or line a ``paragraph`` terminator
    takes; ``lheading`` also at an underline, of which there was none. Both ask the
    terminators with ``state.parentType`` "paragraph", which a failing ``lheading``
    leaves as it is (upstream's too), so ``paragraph`` restores it to that.
    ``paragraph`` scans to ``state.lineMax``, ``lheading`` to `endLine`: they
    must be the same line.
    """
    if silent or endLine != state.lineMax:
        return False
    rules = state.md.block.ruler.getRules("")
    at = rules.index(lheading) if lheading in rules else -1
    if at < 0 or at + 1 >= len(rules) or rules[at + 1] is not paragraph:
        return False
    _PARAGRAPH_LOG.debug("entering paragraph: %s, %s, %s, %s", state, startLine, endLine, silent)
    content = _trim(state.getLines(startLine, nextLine, state.blkIndent, False))
    state.line = nextLine
    token = state.push("paragraph_open", "p", 1)
    token.map = [startLine, state.line]
    token = state.push("inline", "", 0)
    token.content = content
    token.map = [startLine, state.line]
    token.children = []
    state.push("paragraph_close", "p", -1)
    return True


def dispatch(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    """Try only the rules that may match at `startLine`: of the rules `_NEEDS`
    knows right after this one, those the line's first character may start
    (all of them for a line with a "|" or an indented one), then the rest."""
    for rule in _chain_candidates(state, "").rules(state, startLine):
        if rule(state, startLine, endLine, silent):
            return True
    return False


# The inline post-processing rules that leave one text token as it is (with no
# delimiters to pair, each does nothing).
_PLAIN_RULES2 = (
    rules_inline.link_pairs,
    rules_inline.strikethrough.postProcess,
    rules_inline.emphasis.postProcess,
    rules_inline.fragments_join,
)


def _plain_text(md: MarkdownIt) -> re.Pattern[str] | None:
    """What stops `md`'s ``text`` inline rule, if that rule comes first in the chain
    and the post-processing is the stock one: a content with none of it becomes
    one text token. None otherwise (or on markdown-it-py < 4.3, which has no
    such pattern): every content then goes through the inline parser."""
    terminators: re.Pattern[str] | None = getattr(md.inline, "terminator_re", None)
    rules = md.inline.ruler.getRules("")
    rules2 = md.inline.ruler2.getRules("")
    if (
        terminators is None
        or not rules
        or rules[0] is not rules_inline.text
        or any(rule not in _PLAIN_RULES2 for rule in rules2)
    ):
        return None
    return terminators


# The inline rules that may come before ``newline`` while a content whose only
# stops are line breaks keeps its fast path: ``text`` stops at each, and
# ``linkify`` acts only on a ":" (which stops ``text`` too).
_BEFORE_NEWLINE = (rules_inline.text, rules_inline.linkify)


def _plain_breaks(md: MarkdownIt) -> bool:
    """Whether a line break in an inline content is upstream's ``newline`` rule's,
    with no rule before it that could take the break instead."""
    rules = md.inline.ruler.getRules("")
    if rules_inline.newline not in rules:
        return False
    return all(rule in _BEFORE_NEWLINE for rule in rules[: rules.index(rules_inline.newline)])


def inline(state: StateCore) -> None:
    """markdown-it-py's core ``inline`` rule (each inline token's content parsed into
    its children), but a content with no character that stops the ``text`` rule
    becomes one text token here: what the inline parser would make of it, without
    building its state and running its chains (table cells, headings and short
    list items are mostly such; each parse cost about 4.5 microseconds). So does
    one whose only stops are line breaks (a paragraph of plain prose): its lines
    and breaks (see `_lines`)."""
    md = state.md
    plain = _plain_text(md)
    breaks = plain is not None and _plain_breaks(md)
    for token in state.tokens:
        if token.type == "inline":
            if token.children is None:
                token.children = []
            content = token.content
            if plain is None or not content:
                md.inline.parse(content, md, state.env, token.children)
            elif plain.search(content) is None:
                text = Token("text", "", 0)
                text.content = content
                token.children.append(text)
            elif not (breaks and _lines(content, plain, token.children)):
                md.inline.parse(content, md, state.env, token.children)


def _lines(content: str, plain: re.Pattern[str], tokens: list[Token]) -> bool:
    """The inline parser's tokens for a `content` in which nothing but line breaks
    stops the ``text`` rule, appended to `tokens`; False (and nothing appended)
    for any other content.

    Each line is a text token, each line break what upstream's ``newline`` rule
    makes of it: a ``hardbreak`` after two spaces or more, else a ``softbreak``,
    with the spaces before it dropped and those (and tabs) starting the next
    line skipped.
    """
    for stop in plain.finditer(content):
        if stop.group() != "\n":
            return False
    start, length = 0, len(content)
    while True:
        end = content.find("\n", start)
        line = content[start:] if end < 0 else content[start:end]
        kind = "softbreak"
        if end >= 0 and line.endswith(" "):
            if line.endswith("  "):
                line, kind = line.rstrip(" "), "hardbreak"
            else:
                line = line[:-1]
        if line:
            text = Token("text", "", 0)
            text.content = line
            tokens.append(text)
        if end < 0:
            return True
        tokens.append(Token(kind, "br", 0))
        start = end + 1
        while start < length and content[start] in " \t":
            start += 1


def normalize(state: StateCore) -> None:
    """markdown-it-py's core ``normalize`` rule (CR LF and CR to LF, NUL to U+FFFD),
    without rewriting a text that has neither: its pattern matched every LF and
    put an LF back, 65 of the 1,450 microseconds of a story's render."""
    src = state.src
    if "\r" in src:
        src = src.replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in src:
        src = src.replace("\0", "\ufffd")
    state.src = src


def install(md: MarkdownIt) -> None:
    """Make `md` parse with the rules above (the same tokens, less work); once is enough."""
    ruler = md.block.ruler
    ruler.at("paragraph", paragraph)
    ruler.at("lheading", lheading)
    if "dispatch" not in ruler.get_all_rules():
        ruler.before(ruler.get_all_rules()[0], "dispatch", dispatch)
    md.core.ruler.at("normalize", normalize)
    md.core.ruler.at("inline", inline)
