"""What markdown-it-pyrs renders differently from the reference engine.

`commsite.markdown_rust.render_fast` declines a body (the reference renders it)
when `refused` finds something in its text, or when one of the checks here
finds it in its syntax tree: the engines differ there, or markdown-it.rs may
panic. tests/test_markdown_parity.py finds what is missing from this list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from markdown_it_pyrs import Node

__all__ = [
    "DELIMITER_ROW",
    "INLINE",
    "Source",
    "block_after_text",
    "label_mapped",
    "lazy_lines",
    "link_text_differs",
    "plain_description",
    "refused",
    "rows_that_start_blocks",
    "second_line",
    "text_right_after",
]

# What the reference engine does differently, or what a patch could misread:
# footnotes, inline footnotes, comments and declarations (CommonMark 0.31
# changed them), NUL and CR; and, checked by the patterns below, task list
# items, link reference definitions (markdown-it.rs misreads some) and tag names
# with non-ASCII letters (the engines fold case differently).
_REFUSE_SUBSTRINGS = ("[^", "^[", "<!", "\x00", "\r")
_TASK_ITEM = re.compile(r"^[ \t]*(?:[-+*]|\d{1,9}[.)])[ \t]+\[[ xX]\]", re.MULTILINE)
_REFERENCE = re.compile(r"^ {0,3}\[[^\]\n]*\]:", re.MULTILINE)
_UNICODE_TAG = re.compile(r"</?[A-Za-z]*[^\x00-\x7f]")
# A delimiter run beside a non-ASCII character: whether "*£*" is emphasis
# depends on the Unicode punctuation table, and the engines' tables differ.
_DELIMITERS = re.compile(r"[*_~]+")
_QUOTE = re.compile(r"[ \t]*>")

INLINE = frozenset(
    {
        "text",
        "text_special",
        "softbreak",
        "hardbreak",
        "em",
        "strong",
        "strikethrough",
        "link",
        "image",
        "autolink",
        "code_inline",
        "html_inline",
    }
)


class Source:
    """The text as UTF-8 bytes: the tree's source map counts bytes."""

    __slots__ = ("data",)

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8")

    def line(self, node: Node) -> int:
        return self.data.count(b"\n", 0, node.srcmap[0]) if node.srcmap else 0

    def slice(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "replace")


def refused(text: str) -> bool:
    """Whether the text holds something only the reference engine renders right."""
    if any(s in text for s in _REFUSE_SUBSTRINGS):
        return True
    if "`" in text and (_unpaired_backticks(text) or _code_in_brackets(text)):
        return True
    if ("[ ]" in text or "[x]" in text or "[X]" in text) and _TASK_ITEM.search(text):
        return True
    if "]:" in text and _REFERENCE.search(text):
        return True
    if not text.isascii() and (_UNICODE_TAG.search(text) or _unicode_delimiters(text)):
        return True
    return _runs_of_three(text)


_BRACKETED_BACKTICK = re.compile(r"\[[^\[\]`]*`")


def _unpaired_backticks(text: str) -> bool:
    """A backtick run with no run of the same length to close it: the engines
    pair such runs differently, and markdown-it.rs 0.6 can panic on one inside
    a link's text (an index out of bounds in its code span scanner)."""
    counts: dict[int, int] = {}
    run = 0
    for piece in text.split("`")[1:]:  # (each after a backtick: empty while the run goes on)
        run += 1
        if piece:
            counts[run] = counts.get(run, 0) + 1
            run = 0
    if run:  # (the text ends with a run)
        counts[run] = counts.get(run, 0) + 1
    return any(n % 2 for n in counts.values())


def _code_in_brackets(text: str) -> bool:
    """A backtick between a '[' and the next ']' (a code span in what may be a
    link's text): markdown-it.rs 0.6 can panic while it looks for the end of a
    link's text there (it is caught, but its message goes to stderr); the
    reference renders those."""
    return "[" in text and _BRACKETED_BACKTICK.search(text) is not None


def label_mapped(image: Node, source: Source) -> bool:
    """Whether the source map brackets the description of an image whose
    description has markup (the reference keeps it as written): it can be off
    after tabs."""
    if all(c.name == "text" for c in image.children):
        return True
    first, last = image.children[0].srcmap, image.children[-1].srcmap
    data = source.data
    return bool(
        first
        and last
        and data[first[0] - 2 : first[0]] == b"!["
        and data[last[1] : last[1] + 1] == b"]"
    )


def plain_description(image: Node) -> bool:
    """An image description markdown-it.rs writes into alt="" as the reference
    does: text and emphasis only (it drops escapes, entities, tags and breaks)."""
    for node in _walk_all(image):
        if node.name not in ("text", "em", "strong", "strikethrough", "link", "image"):
            return False
    return True


def block_after_text(item: Node) -> bool:
    """A tight list item whose text is followed by a block other than a list:
    markdown-it.rs puts a line break between them, markdown-it-py does not."""
    seen_text = False
    for child in item.children:
        if child.name in INLINE:
            seen_text = True
        elif seen_text and child.name not in ("bullet_list", "ordered_list"):
            return True
    return False


# A line that starts a block other than a paragraph (markdown-it-py ends a table there).
_BLOCK_START = re.compile(r"[ \t]*(?:[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|>|#|```|~~~|<)")


def _lines(node: Node, source: Source) -> list[str]:
    if not node.srcmap:
        return []
    start, end = node.srcmap
    begin = source.data.rfind(b"\n", 0, start) + 1
    return source.slice(begin, end).split("\n")


def lazy_lines(quote: Node, source: Source) -> bool:
    """A quote with a line that does not start with '>' (a lazy continuation):
    the engines disagree about what may follow a quote's paragraph lazily."""
    return any(line.strip() and not _QUOTE.match(line) for line in _lines(quote, source))


def text_right_after(node: Node, source: Source) -> bool:
    """A non-blank line right after the node: markdown-it-py may read it as a
    lazy continuation where markdown-it.rs starts a block (a table, say)."""
    if not node.srcmap:
        return False
    end = node.srcmap[1]
    newline = source.data.find(b"\n", end - 1 if end else 0)
    if newline < 0:
        return False
    line_end = source.data.find(b"\n", newline + 1)
    following = source.data[newline + 1 : line_end if line_end >= 0 else len(source.data)]
    return bool(following.strip())


DELIMITER_ROW = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\||$)")


def second_line(node: Node, source: Source) -> str:
    lines = _lines(node, source)
    return lines[1] if len(lines) > 1 else ""


def rows_that_start_blocks(table: Node, source: Source) -> bool:
    return any(_BLOCK_START.match(line) for line in _lines(table, source)[2:])


def link_text_differs(link: Node) -> bool:
    """Link text with a link inside, or with space at either end: markdown-it.rs
    trims it and nests links, markdown-it-py keeps the space."""
    children = link.children
    if not children:
        return False
    first, last = children[0], children[-1]
    if first.name in ("softbreak", "hardbreak") or (
        first.name == "text" and first.meta["content"][:1].isspace()
    ):
        return True
    if last.name in ("softbreak", "hardbreak") or (
        last.name == "text" and last.meta["content"][-1:].isspace()
    ):
        return True
    return any(
        n.name in ("link", "autolink")
        or (n.name == "image" and any(c.name != "text" for c in n.children))
        for n in _walk_all(link)
    )


def _walk_all(node: Node) -> Iterator[Node]:
    for child in node.children:
        yield child
        yield from _walk_all(child)


_ONLY_RULE = re.compile(r"[ \t]*(?:[*_-][ \t]*)+")


def _runs_of_three(text: str) -> bool:
    """A run of three '*' or '_' in a line that is not a thematic break: the
    engines apply CommonMark's "rule of three" differently."""
    if "***" not in text and "___" not in text:
        return False
    return any(
        ("***" in line or "___" in line) and not _ONLY_RULE.fullmatch(line)
        for line in text.split("\n")
    )


def _unicode_delimiters(text: str) -> bool:
    for match in _DELIMITERS.finditer(text):
        start, end = match.span()
        for other in (text[start - 1 : start], text[end : end + 1]):
            if other and not other.isascii() and unicodedata.category(other)[0] in "PS":
                return True
    return False
