"""Markdown bodies through markdown-it-pyrs, the Rust port of markdown-it.

markdown-it-pyrs (by markdown-it-py's maintainers) parses and renders CommonMark,
tables and strikethrough about fifteen times faster than markdown-it-py. It has
no hooks for commsite's own rules, so this module renders with it, then

* adds the heading ids (`commsite.markdown.heading_id`) to the ``<hN>`` tags,
* replaces each fenced code block by the one `commsite.markdown.code_block`
  makes (Pygments highlighting),

and reads the summary, the first ordered list's items and the links from its
syntax tree, as `commsite.markdown` reads them from markdown-it-py's tokens.

`render_fast` answers None for what it cannot do byte for byte as the
reference engine (stock markdown-it-py with mdit-py-plugins, in
`commsite.markdown`): footnotes and task lists (plugins whose HTML differs),
the rules page's anchors, raw HTML that holds a heading or ``<pre>`` tag (the
tags patched above could then be the organiser's own) and text with NUL or
CR characters. tests/test_markdown_parity.py proves that every answer it does
give equals the reference's, on the CommonMark spec, markdown-it-py's
fixtures, the example and golden sites, generated stories and fuzzed text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence

from markdown_it_pyrs import MarkdownIt, Node

__all__ = ["render_fast"]

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
_TAG_IN_HTML = re.compile(r"<\s*/?\s*(?:h[1-6]|pre)\b", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_HEADING_TAG = re.compile(r"<h([1-6])>")
_CODE_OPEN = "<pre><code"
_EMPTY_QUOTE = "<blockquote>\n</blockquote>"
_CODE_CLOSE = "</code></pre>\n"

_INLINE = frozenset(
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

_MD = MarkdownIt("commonmark").enable_many(["table", "strikethrough"])


class _Source:
    """The text as UTF-8 bytes: the tree's source map counts bytes."""

    __slots__ = ("data",)

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8")

    def line(self, node: Node) -> int:
        return self.data.count(b"\n", 0, node.srcmap[0]) if node.srcmap else 0

    def slice(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "replace")


def _refused(text: str) -> bool:
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


_BACKTICKS = re.compile(r"`+")
_BRACKETED_BACKTICK = re.compile(r"\[[^\[\]`]*`")


def _unpaired_backticks(text: str) -> bool:
    """A backtick run with no run of the same length to close it: the engines
    pair such runs differently, and markdown-it.rs 0.6 can panic on one inside
    a link's text (an index out of bounds in its code span scanner)."""
    counts: dict[int, int] = {}
    for run in _BACKTICKS.findall(text):
        counts[len(run)] = counts.get(len(run), 0) + 1
    return any(n % 2 for n in counts.values())


def _code_in_brackets(text: str) -> bool:
    """A backtick between a '[' and the next ']' (a code span in what may be a
    link's text): markdown-it.rs 0.6 can panic while it looks for the end of a
    link's text there (it is caught, but its message goes to stderr); the
    reference renders those."""
    return "[" in text and _BRACKETED_BACKTICK.search(text) is not None


def _label_mapped(image: Node, source: _Source) -> bool:
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


def _plain_description(image: Node) -> bool:
    """An image description markdown-it.rs writes into alt="" as the reference
    does: text and emphasis only (it drops escapes, entities, tags and breaks)."""
    for node in _walk_all(image):
        if node.name not in ("text", "em", "strong", "strikethrough", "link", "image"):
            return False
    return True


def _block_after_text(item: Node) -> bool:
    """A tight list item whose text is followed by a block other than a list:
    markdown-it.rs puts a line break between them, markdown-it-py does not."""
    seen_text = False
    for child in item.children:
        if child.name in _INLINE:
            seen_text = True
        elif seen_text and child.name not in ("bullet_list", "ordered_list"):
            return True
    return False


# A line that starts a block other than a paragraph (markdown-it-py ends a table there).
_BLOCK_START = re.compile(r"[ \t]*(?:[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|>|#|```|~~~|<)")


def _lines(node: Node, source: _Source) -> list[str]:
    if not node.srcmap:
        return []
    start, end = node.srcmap
    begin = source.data.rfind(b"\n", 0, start) + 1
    return source.slice(begin, end).split("\n")


def _lazy_lines(quote: Node, source: _Source) -> bool:
    """A quote with a line that does not start with '>' (a lazy continuation):
    the engines disagree about what may follow a quote's paragraph lazily."""
    return any(line.strip() and not _QUOTE.match(line) for line in _lines(quote, source))


def _text_right_after(node: Node, source: _Source) -> bool:
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


_DELIMITER_ROW = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\||$)")


def _second_line(node: Node, source: _Source) -> str:
    lines = _lines(node, source)
    return lines[1] if len(lines) > 1 else ""


def _rows_that_start_blocks(table: Node, source: _Source) -> bool:
    return any(_BLOCK_START.match(line) for line in _lines(table, source)[2:])


def _link_text_differs(link: Node) -> bool:
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


def _tree(text: str) -> Node | None:
    """The syntax tree, or None when markdown-it.rs gave up: it panics on some
    inputs (a Rust index out of bounds), which pyo3 raises as a BaseException."""
    try:
        return _MD.tree(text)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException:
        return None


def _heading_text(node: Node) -> str:
    """As the reference reads a heading: text and code, not image descriptions or tags."""
    parts: list[str] = []
    for child in node.children:
        name = child.name
        if name in ("text", "text_special"):
            parts.append(child.meta["content"])
        elif name == "code_inline":
            parts.append("".join(c.meta["content"] for c in child.children))
        elif name not in ("image", "html_inline", "softbreak", "hardbreak"):
            parts.append(_heading_text(child))
    return "".join(parts)


def _image_label(node: Node, source: _Source) -> str:
    """The description of an image as written (the reference's image token content)."""
    if all(c.name == "text" for c in node.children):
        return "".join(c.meta["content"] for c in node.children)
    first, last = node.children[0].srcmap, node.children[-1].srcmap
    if not first or not last:
        return ""
    return source.slice(first[0], last[1])


def _plain(nodes: Sequence[Node], source: _Source) -> str:
    parts: list[str] = []
    for child in nodes:
        name = child.name
        if name in ("text", "text_special"):
            parts.append(child.meta["content"])
        elif name == "code_inline":
            parts.append("".join(c.meta["content"] for c in child.children))
        elif name in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif name == "image":
            parts.append(_image_label(child, source))
        elif name != "html_inline":
            parts.append(_plain(child.children, source))
    return _SPACES.sub(" ", "".join(parts)).strip()


def _inline_runs(node: Node) -> Iterator[list[Node]]:
    """The runs of inline nodes under a block (the reference's `inline` tokens)."""
    run: list[Node] = []
    for child in node.children:
        if child.name in _INLINE:
            run.append(child)
            continue
        if run:
            yield run
            run = []
        yield from _inline_runs(child)
    if run:
        yield run


def _rule_items(root: Node, source: _Source) -> tuple[int, tuple[str, ...]]:
    ordered = next((c for c in root.children if c.name == "ordered_list"), None)
    if ordered is None:
        return 1, ()
    items = []
    for item in ordered.children:
        texts = (_plain(run, source) for run in _inline_runs(item))
        items.append(" ".join(t for t in texts if t))
    return int(ordered.meta.get("start", 1)), tuple(items)


def _summary(root: Node, source: _Source, plain_limit: int) -> list[str]:
    parts: list[str] = []
    length = 0
    for child in root.children:
        if child.name != "paragraph":
            continue
        text = _plain(child.children, source)
        if text:
            parts.append(text)
            length += len(text) + 1
            if length > plain_limit:
                break
    return parts


def render_fast(
    text: str,
    *,
    heading_id: Callable[[str, set[str]], str],
    code_block: Callable[[str, str], str],
    fence_lang: Callable[[str], str],
    html_links: Callable[[str, int, list[tuple[str, int, bool]]], None],
    normalize_link: Callable[[str], str],
    summary_limit: int,
) -> (
    tuple[str, list[str], int, tuple[str, ...], tuple[tuple[str, int, bool], ...], tuple[int, ...]]
    | None
):
    """(html, summary paragraphs, rule start, rule items, links, the lines of images
    without a description), or None when the
    reference engine must render `text` (see the module's docstring).

    The callables are the reference's own (commsite.markdown), so both engines
    name headings, highlight code and find links in raw HTML the same way."""
    if _refused(text):
        return None
    root = _tree(text)
    if root is None:
        return None
    source = _Source(text)
    headings: list[Node] = []
    codes: list[Node] = []
    links: list[tuple[str, int, bool]] = []
    missing_alt: list[int] = []  # the line of each image without a description
    check_text = "`" in text or "~~" in text
    stack = list(reversed(root.children))
    while stack:
        node = stack.pop()
        name = node.name
        if name == "text":
            if check_text:
                content = node.meta["content"]
                if "`" in content or "~~" in content:
                    return None  # an unpaired run of backticks or tildes: paired differently
            continue
        if name != "image":  # the reference reads no links in an image's description
            stack.extend(reversed(node.children))
        if name == "heading" or name == "lheading":
            headings.append(node)
        elif name == "fence" or name == "code_block":
            if name == "fence" and _DELIMITER_ROW.match(_second_line(node, source)):
                return None  # markdown-it-py reads a table there
            codes.append(node)
        elif name == "link" or name == "autolink":
            if name == "link" and _link_text_differs(node):
                return None
            links.append((normalize_link(node.meta["url"]), source.line(node), False))
        elif name == "image":
            if not _plain_description(node) or not _label_mapped(node, source):
                return None
            links.append((normalize_link(node.meta["url"]), source.line(node), True))
            if not _image_label(node, source).strip():
                missing_alt.append(source.line(node))
        elif name == "blockquote":
            if _lazy_lines(node, source) or _text_right_after(node, source):
                return None
        elif name == "table":
            if _rows_that_start_blocks(node, source):
                return None
        elif name == "list_item":
            if _block_after_text(node):
                return None
        elif name == "code_inline":
            if not "".join(c.meta["content"] for c in node.children).strip(" "):
                return None  # markdown-it.rs drops a code span of spaces
        elif name == "html_block" and _DELIMITER_ROW.match(_second_line(node, source)):
            return None  # markdown-it-py reads a table there
        elif name == "html_inline" or name == "html_block":
            content = node.meta["content"]
            if _TAG_IN_HTML.search(content) or "pagefind" in content.lower():
                return None  # (the reference makes data-pagefind-* inert: markdown.py)
            html_links(content, source.line(node), links)
    html = _MD.render(text)
    if _EMPTY_QUOTE in html:  # the reference writes "<blockquote></blockquote>"
        return None
    if headings:
        used: set[str] = set()
        ids = iter([heading_id(_heading_text(h), used) for h in headings])
        html = _HEADING_TAG.sub(lambda m: f'<h{m.group(1)} id="{next(ids)}">', html)
    if any(c.name == "fence" for c in codes):
        html = _with_code_blocks(html, codes, code_block, fence_lang)
    start, items = _rule_items(root, source)
    summary = _summary(root, source, summary_limit)
    return html, summary, start, items, tuple(links), tuple(missing_alt)


def _with_code_blocks(
    html: str,
    codes: list[Node],
    code_block: Callable[[str, str], str],
    fence_lang: Callable[[str], str],
) -> str:
    out: list[str] = []
    at = 0
    for node in codes:
        begin = html.index(_CODE_OPEN, at)
        end = html.index(_CODE_CLOSE, begin) + len(_CODE_CLOSE)
        if node.name == "fence":
            out.append(html[at:begin])
            out.append(code_block(fence_lang(node.meta.get("info", "")), node.meta["content"]))
            at = end
        else:
            out.append(html[at:end])
            at = end
    out.append(html[at:])
    return "".join(out)
