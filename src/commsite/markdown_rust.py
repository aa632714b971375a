"""Markdown bodies through markdown-it-pyrs, the Rust port of markdown-it.

markdown-it-pyrs (by markdown-it-py's maintainers) parses and renders CommonMark,
tables and strikethrough about fifteen times faster than markdown-it-py. It has
no hooks for commsite's own rules, so this module renders with it, then

* adds the heading ids (`commsite.markdown.heading_id`) to the ``<hN>`` tags,
* replaces each fenced code block by the one `commsite.markdown.code_block`
  makes (Pygments highlighting),

and reads the summary, the links and the images without a description from
its syntax tree, as `commsite.markdown` reads them from markdown-it-py's tokens
(the rules page, whose list items are read as the rules, is the reference's).

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
from collections.abc import Callable, Sequence
from itertools import islice

from markdown_it_pyrs import MarkdownIt, Node

from commsite.markdown_declines import (
    DELIMITER_ROW,
    Source,
    block_after_text,
    label_mapped,
    lazy_lines,
    link_text_differs,
    plain_description,
    refused,
    rows_that_start_blocks,
    second_line,
    text_right_after,
)

__all__ = ["render_fast"]

_TAG_IN_HTML = re.compile(r"<\s*/?\s*(?:h[1-6]|pre)\b", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_HEADING_TAG = re.compile(r"<h([1-6])>")
_CODE_OPEN = "<pre><code"
_EMPTY_QUOTE = "<blockquote>\n</blockquote>"
_CODE_CLOSE = "</code></pre>\n"
_CODE_BLOCK = re.compile(r"<pre><code[^>]*>.*?</code></pre>", re.DOTALL)


_MD = MarkdownIt("commonmark").enable_many(["table", "strikethrough"])


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


def _image_label(node: Node, source: Source) -> str:
    """The description of an image as written (the reference's image token content)."""
    if all(c.name == "text" for c in node.children):
        return "".join(c.meta["content"] for c in node.children)
    first, last = node.children[0].srcmap, node.children[-1].srcmap
    if not first or not last:
        return ""
    return source.slice(first[0], last[1])


def _plain(nodes: Sequence[Node], source: Source) -> str:
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


def _summary(root: Node, source: Source, plain_limit: int) -> list[str]:
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
) -> tuple[str, list[str], tuple[tuple[str, int, bool], ...], tuple[int, ...]] | None:
    """(html, summary paragraphs, links, the lines of images without a
    description), or None when the reference engine must render `text` (see the
    module's docstring). It renders no rules page (their items get anchors).

    The callables are the reference's own (commsite.markdown), so both engines
    name headings, highlight code and find links in raw HTML the same way."""
    if refused(text):
        return None
    root = _tree(text)
    if root is None:
        return None
    source = Source(text)
    headings: list[Node] = []
    codes: list[Node] = []
    links: list[tuple[str, int, bool]] = []
    missing_alt: list[int] = []  # the line of each image without a description
    html = _MD.render(text)
    if _EMPTY_QUOTE in html:  # the reference writes "<blockquote></blockquote>"
        return None
    # Text nodes are looked into only when the HTML shows a backtick or "~~"
    # outside the code blocks (they are not text nodes): escaping keeps both.
    check_text = ("`" in text or "~~" in text) and _outside_blocks(html)
    nodes = iter(root.walk(include_self=False))  # (depth first, in the text's order)
    for node in nodes:
        name = node.name
        if name == "text":
            if check_text:
                content = node.meta["content"]
                if "`" in content or "~~" in content:
                    return None  # an unpaired run of backticks or tildes: paired differently
            continue
        if name == "heading" or name == "lheading":
            headings.append(node)
        elif name == "fence" or name == "code_block":
            if name == "fence" and DELIMITER_ROW.match(second_line(node, source)):
                return None  # markdown-it-py reads a table there
            codes.append(node)
        elif name == "link" or name == "autolink":
            if name == "link" and link_text_differs(node):
                return None
            links.append((normalize_link(node.meta["url"]), source.line(node), False))
        elif name == "image":
            if not plain_description(node) or not label_mapped(node, source):
                return None
            links.append((normalize_link(node.meta["url"]), source.line(node), True))
            if not _image_label(node, source).strip():
                missing_alt.append(source.line(node))
            # The reference reads no links in an image's description: skip what it holds.
            skip = sum(1 for _ in node.walk(include_self=False))
            next(islice(nodes, skip, skip), None)
        elif name == "blockquote":
            if lazy_lines(node, source) or text_right_after(node, source):
                return None
        elif name == "table":
            if rows_that_start_blocks(node, source):
                return None
        elif name == "list_item":
            if block_after_text(node):
                return None
        elif name == "code_inline":
            if not "".join(c.meta["content"] for c in node.children).strip(" "):
                return None  # markdown-it.rs drops a code span of spaces
        elif name == "html_block" and DELIMITER_ROW.match(second_line(node, source)):
            return None  # markdown-it-py reads a table there
        elif name == "html_inline" or name == "html_block":
            content = node.meta["content"]
            if _TAG_IN_HTML.search(content) or "pagefind" in content.lower():
                return None  # (the reference makes data-pagefind-* inert: markdown.py)
            html_links(content, source.line(node), links)
    if headings:
        used: set[str] = set()
        ids = iter([heading_id(_heading_text(h), used) for h in headings])
        html = _HEADING_TAG.sub(lambda m: f'<h{m.group(1)} id="{next(ids)}">', html)
    if any(c.name == "fence" for c in codes):
        html = _with_code_blocks(html, codes, code_block, fence_lang)
    summary = _summary(root, source, summary_limit)
    return html, summary, tuple(links), tuple(missing_alt)


def _outside_blocks(html: str) -> bool:
    """Whether a backtick or "~~" is in `html` outside its code blocks."""
    rest = _CODE_BLOCK.sub("", html) if _CODE_OPEN in html else html
    return "`" in rest or "~~" in rest


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
