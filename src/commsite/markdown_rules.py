"""Block rules that give markdown-it-py's tokens with less work.

Almost every line of prose starts with a letter, and no block but a paragraph
can start with one. Upstream markdown-it-py still asks every block rule about
every such line: at each block start the whole rule chain, and inside a
paragraph (twice: ``lheading`` scans the paragraph's lines, then ``paragraph``
scans them again) every rule that may interrupt a paragraph. Each of those
rules gives up at its first test, on the line's first character, but the calls
(and their debug logging) are half of the parse time of a typical story.

`install` makes a MarkdownIt skip those calls, with the same tokens:

* ``paragraph`` and ``lheading`` are replaced by copies of the upstream rules
  (markdown-it-py 4.3.0) with one change: the rules that may interrupt a
  paragraph are asked about a line only when its first character is one they
  can start with (or, for the table rule, when it has a ``|``);
* a rule named ``prose``, first in the chain, sends a line that none of the
  rules before ``lheading`` can start straight to the rest of the chain.

What each rule can start with is a table keyed by the rule function itself
(`_NEEDS`), checked against the chain actually registered each time it is
built: a chain that holds a rule the table does not know (a plugin added
later) is walked in full, as upstream does. tests/test_markdown_parity.py
compares tokens against a stock MarkdownIt on the CommonMark spec, the plugin
fixtures and generated stories, which also guards against upstream drift.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt, rules_block
from markdown_it.rules_block import StateBlock
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

_PIPE = "|"  # the table rule: a header row has a "|" (and a delimiter row below)
_INDENT = "    "  # the code rule: indented by four columns or more
_DIGITS = "0123456789"

# What a line needs for each known rule to match on it: the characters the
# rule's first test accepts as the line's first non-blank one, or _PIPE, or
# _INDENT. Every rule here returns False before anything else when the line
# does not meet its need (see each rule's opening lines in
# markdown_it/rules_block/ and mdit_py_plugins/footnote/index.py).
_NEEDS: dict[BlockRule, str] = {
    rules_block.table: _PIPE,
    rules_block.code: _INDENT,
    rules_block.fence: "`~",
    rules_block.blockquote: ">",
    rules_block.hr: "*-_",
    rules_block.list_block: "*+-" + _DIGITS,
    rules_block.reference: "[",
    rules_block.html_block: "<",
    rules_block.heading: "#",
    footnote_def: "[",
}


@dataclass(frozen=True, slots=True)
class _Gate:
    """Which lines some rule of a chain may match on."""

    starts: str  # first characters that one of the rules accepts
    pipe: bool  # the table rule is in the chain
    indent: bool  # the code rule is in the chain

    def open(self, state: StateBlock, line: int) -> bool:
        """False when no rule of the chain can match at `line` (a non-empty line)."""
        pos = state.bMarks[line] + state.tShift[line]
        end = state.eMarks[line]
        if pos >= end:
            return True
        if state.src[pos] in self.starts:
            return True
        if self.pipe and state.src.find("|", pos, end) >= 0:
            return True
        return self.indent and state.sCount[line] - state.blkIndent >= 4


def _gate(rules: Sequence[BlockRule]) -> _Gate | None:
    """The gate of a chain, or None when it holds a rule `_NEEDS` does not know."""
    needs = []
    for rule in rules:
        need = _NEEDS.get(rule)
        if need is None:
            return None
        needs.append(need)
    starts = "".join(sorted({c for need in needs if need not in (_PIPE, _INDENT) for c in need}))
    return _Gate(starts=starts, pipe=_PIPE in needs, indent=_INDENT in needs)


# Ruler.getRules returns the same list until the chain changes (enable, disable,
# a plugin adding a rule), so gates are kept by list identity; each entry holds
# its list, so an id is not reused while it is here.
_GATES: dict[int, tuple[list[BlockRule], _Gate | None]] = {}


def _terminators(state: StateBlock) -> tuple[list[BlockRule], _Gate | None]:
    rules = state.md.block.ruler.getRules("paragraph")
    entry = _GATES.get(id(rules))
    if entry is None or entry[0] is not rules:
        if len(_GATES) > 64:
            _GATES.clear()
        entry = _GATES[id(rules)] = (rules, _gate(rules))
    return entry


def _terminates(
    state: StateBlock, rules: list[BlockRule], gate: _Gate | None, line: int, endLine: int
) -> bool:
    """Whether a block starting at `line` interrupts the paragraph above it."""
    if gate is not None and not gate.open(state, line):
        return False
    return any(rule(state, line, endLine, True) for rule in rules)


# paragraph and lheading: markdown-it-py 4.3.0's rules_block/paragraph.py and
# rules_block/lheading.py, with the terminator loop moved into _terminates.


def paragraph(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    _PARAGRAPH_LOG.debug("entering paragraph: %s, %s, %s, %s", state, startLine, endLine, silent)

    nextLine = startLine + 1
    terminatorRules, gate = _terminators(state)
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
        if _terminates(state, terminatorRules, gate, nextLine, endLine):
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
    terminatorRules, gate = _terminators(state)

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
        if _terminates(state, terminatorRules, gate, nextLine, endLine):
            break

        nextLine += 1

    if not level:
        # Didn't find valid underline
        return False

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


@dataclass(frozen=True, slots=True)
class _Shortcut:
    """The main chain seen from `prose`: the known rules right after it, which a
    line may skip, and the rules from the first one it must not skip."""

    gate: _Gate | None
    rest: tuple[BlockRule, ...]


_SHORTCUTS: dict[int, tuple[list[BlockRule], _Shortcut]] = {}


def _shortcut(rules: list[BlockRule]) -> _Shortcut:
    here = rules.index(prose) + 1
    end = here
    while end < len(rules) and rules[end] in _NEEDS:
        end += 1
    if end == here:
        return _Shortcut(gate=None, rest=())
    return _Shortcut(gate=_gate(rules[here:end]), rest=tuple(rules[end:]))


def prose(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    """A line that no rule before ``lheading`` can start: try the rest only."""
    rules = state.md.block.ruler.getRules("")
    entry = _SHORTCUTS.get(id(rules))
    if entry is None or entry[0] is not rules:
        if len(_SHORTCUTS) > 64:
            _SHORTCUTS.clear()
        entry = _SHORTCUTS[id(rules)] = (rules, _shortcut(rules))
    shortcut = entry[1]
    if shortcut.gate is None or shortcut.gate.open(state, startLine):
        return False
    return any(rule(state, startLine, endLine, silent) for rule in shortcut.rest)


def install(md: MarkdownIt) -> None:
    """Make `md` parse with the rules above (the same tokens, less work)."""
    ruler = md.block.ruler
    ruler.at("paragraph", paragraph)
    ruler.at("lheading", lheading)
    ruler.before(ruler.get_all_rules()[0], "prose", prose)
