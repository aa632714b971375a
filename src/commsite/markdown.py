"""Markdown bodies to HTML, with two engines that give the same answers.

CommonMark with raw HTML allowed (the organisers write the content), plus
tables, strikethrough, footnotes, task lists and heading ids (which never take
an id the page around the body already uses: see THEME_IDS). Fenced code
with a language Pygments knows is highlighted with CSS classes (no inline
styles; `pygments_css()` gives the stylesheet); any other fence is escaped
into a plain ``<pre><code>``.

The reference engine is stock markdown-it-py with mdit-py-plugins (footnotes,
task lists), one instance made once and reused. Most bodies are rendered by
markdown-it-pyrs instead (`commsite.markdown_rust`), fifteen times faster; it
declines what it cannot render exactly as the reference does, and
tests/test_markdown_parity.py holds the two to the same bytes. Both engines'
versions are pinned to the ranges tested (pyproject.toml; tests/test_markdown_
parity.py fails when an installed version is outside them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from markdown_it.renderer import RendererProtocol
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from commsite.markdown_code import code_block, fence_lang, pygments_css
from commsite.markdown_headings import THEME_IDS, heading_id
from commsite.markdown_rust import render_fast

__all__ = [
    "SUMMARY_LENGTH",
    "THEME_IDS",
    "RenderedMarkdown",
    "heading_id",
    "pygments_css",
    "render_markdown",
    "render_reference",
]

SUMMARY_LENGTH = 200
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class RenderedMarkdown:
    html: str
    summary: str  # plain text from the first paragraph(s), at most SUMMARY_LENGTH characters
    # Of the rules page (rule_anchors) alone: the plain text of the first top-level
    # ordered list's items, and the number that list gives its first (`3.` -> 3; may be 0).
    rule_items: tuple[str, ...]
    rule_start: int = 1
    # Every link and image address in the body, as written (markdown-it's
    # normalised form), with its line (0 = the body's first) and whether it is
    # an image: what the link checker reads (see links/check.py).
    links: tuple[tuple[str, int, bool], ...] = ()
    # The line (0 = the body's first) of each Markdown image without alt text.
    missing_alt: tuple[int, ...] = ()


def _fence(
    renderer: RendererProtocol,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    token = tokens[idx]
    return code_block(fence_lang(token.info), token.content)


def _heading_ids(state: StateCore) -> None:
    """An id on every heading, unique in the page: a slug of its text, with -1,
    -2, ... when the slug is taken (by an earlier heading or by the page)."""
    rules = bool(state.env.get("rule_anchors"))
    used: set[str] = set()
    for i, token in enumerate(state.tokens):
        if token.type != "heading_open":
            continue
        children = state.tokens[i + 1].children or []
        title = "".join(c.content for c in children if c.type in ("text", "code_inline"))
        token.attrSet("id", heading_id(title, used, rules))


# Raw HTML in a body must not steer the search index (build.search): a
# data-pagefind-* attribute in it would give the page another filter, title or
# image in the results, or hide it. Inside tags they are renamed, inert.
_TAG = re.compile(r"<[^<>]*>")
_PAGEFIND_ATTRIBUTE = re.compile(r"(?<=\s)data-pagefind-", re.IGNORECASE)


def _inert_tag(match: re.Match[str]) -> str:
    return _PAGEFIND_ATTRIBUTE.sub("data-not-pagefind-", match.group(0))


def _raw_html(
    self: RendererProtocol, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    content = tokens[idx].content
    if "pagefind" not in content.lower():
        return content
    return _TAG.sub(_inert_tag, content)


def _build() -> MarkdownIt:
    """The reference engine: stock markdown-it-py, its plugins, commsite's rules."""
    md = (
        MarkdownIt("commonmark", {"html": True})
        .enable(["table", "strikethrough"])
        .use(footnote_plugin)
        .use(tasklists_plugin)
    )
    md.core.ruler.push("heading_ids", _heading_ids)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("html_block", _raw_html)
    md.add_render_rule("html_inline", _raw_html)
    # Link normalisation (punycode, percent-encoding) is pure and costly, and
    # the same addresses recur across a site's files: remember the answers.
    md.normalizeLink = lru_cache(maxsize=4096)(md.normalizeLink)  # type: ignore[method-assign]
    md.normalizeLinkText = lru_cache(maxsize=4096)(md.normalizeLinkText)  # type: ignore[method-assign]
    return md


_MD = _build()


def _plain(inline: Token) -> str:
    """The text of an inline token, without markup."""
    parts: list[str] = []
    for child in inline.children or ():
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "image":
            parts.append(child.content)
    return _SPACES.sub(" ", "".join(parts)).strip()


def _shorten(text: str, limit: int = SUMMARY_LENGTH) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


def _summary(tokens: Sequence[Token]) -> list[str]:
    parts: list[str] = []
    length = 0
    for i, token in enumerate(tokens):
        if token.type == "paragraph_open" and token.level == 0 and i + 1 < len(tokens):
            text = _plain(tokens[i + 1])
            if text:
                parts.append(text)
                length += len(text) + 1
                if length > SUMMARY_LENGTH:
                    break
    return parts


def _list_start(token: Token) -> int:
    """The number an ``ordered_list_open`` gives its first item: markdown-it sets
    "start" (0 to 999,999,999, as CommonMark allows) when it is not 1."""
    start = token.attrGet("start")
    return int(start) if start is not None else 1


def _rule_items(tokens: Sequence[Token], anchors: bool) -> tuple[int, tuple[str, ...]]:
    """With `anchors` (the rules page), the first top-level ordered list: the
    number of its first item and the plain text of each item, and item N (as the
    list numbers it: ``3.`` then 4, 5, ...) gets ``id="rule-N"``; else (1, ())."""
    if not anchors:
        return 1, ()
    opening = next(
        (i for i, t in enumerate(tokens) if t.type == "ordered_list_open" and t.level == 0),
        None,
    )
    if opening is None:
        return 1, ()
    first = _list_start(tokens[opening])
    items: list[str] = []
    current: list[str] | None = None
    for token in tokens[opening + 1 :]:
        if token.level == 0:  # ordered_list_close
            break
        if token.type == "list_item_open" and token.level == 1:
            token.attrSet("id", f"rule-{first + len(items)}")
            current = []
            items.append("")
        elif token.type == "list_item_close" and token.level == 1 and current is not None:
            items[-1] = " ".join(current)
            current = None
        elif token.type == "inline" and current is not None:
            text = _plain(token)
            if text:
                current.append(text)
    return first, tuple(items)


# href="..." and src="..." in raw HTML (the organisers may write <a> and <img>).
_HTML_ADDRESS = re.compile(
    r"""<(?:(a|area|link)|(img|source|video|audio|iframe|embed))\b[^>]*?\s(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
    re.IGNORECASE,
)


def _html_links(html: str, line: int, found: list[tuple[str, int, bool]]) -> None:
    for match in _HTML_ADDRESS.finditer(html):
        address = match.group(3) or match.group(4) or match.group(5) or ""
        at = line + html.count("\n", 0, match.start())
        found.append((unescapeAll(address), at, match.group(2) is not None))


def _links(tokens: Sequence[Token]) -> tuple[tuple[str, int, bool], ...]:
    """(address, line in the body, is an image) of every link and image, in order."""
    found: list[tuple[str, int, bool]] = []
    line = 0
    for token in tokens:
        if token.map is not None:
            line = token.map[0]
        kind = token.type
        if kind == "inline":
            at = line
            for child in token.children or ():
                ckind = child.type
                if ckind in ("softbreak", "hardbreak"):
                    at += 1
                elif ckind == "link_open":
                    href = child.attrGet("href")
                    if isinstance(href, str):
                        found.append((href, at, False))
                elif ckind == "image":
                    src = child.attrGet("src")
                    if isinstance(src, str):
                        found.append((src, at, True))
                elif ckind == "html_inline":
                    _html_links(child.content, at, found)
        elif kind == "html_block":
            _html_links(token.content, line, found)
    return tuple(found)


def _missing_alt(tokens: Sequence[Token]) -> tuple[int, ...]:
    """The line of each Markdown image whose alt text is empty."""
    found: list[int] = []
    line = 0
    for token in tokens:
        if token.map is not None:
            line = token.map[0]
        if token.type != "inline":
            continue
        at = line
        for child in token.children or ():
            if child.type in ("softbreak", "hardbreak"):
                at += 1
            elif child.type == "image" and not child.content.strip():
                found.append(at)
    return tuple(found)


def render_markdown(text: str, *, rule_anchors: bool = False) -> RenderedMarkdown:
    """Render a Markdown body; with `rule_anchors` (the rules page), the items of
    the first top-level ordered list are read as the rules and get ``id="rule-N"``,
    N the number the reader sees (from the list's start: ``3. Be kind`` is
    rule-3), and no heading does."""
    if not text.endswith("\n"):  # both engines end a last raw HTML block alike then
        text += "\n"
    if not rule_anchors:
        fast = render_fast(
            text,
            heading_id=heading_id,
            code_block=code_block,
            fence_lang=fence_lang,
            html_links=_html_links,
            normalize_link=_MD.normalizeLink,
            summary_limit=SUMMARY_LENGTH,
        )
        if fast is not None:
            html, parts, links, missing_alt = fast
            return RenderedMarkdown(html, _shorten(" ".join(parts)), (), 1, links, missing_alt)
    return render_reference(text, rule_anchors=rule_anchors)


def render_reference(text: str, *, rule_anchors: bool = False) -> RenderedMarkdown:
    """`render_markdown` by the reference engine alone (markdown-it-py)."""
    if not text.endswith("\n"):
        text += "\n"
    env: EnvType = {"rule_anchors": rule_anchors}
    tokens = _MD.parse(text, env)
    first, rules = _rule_items(tokens, rule_anchors)
    html = _MD.renderer.render(tokens, _MD.options, env)
    return RenderedMarkdown(
        html=html,
        summary=_shorten(" ".join(_summary(tokens))),
        rule_items=rules,
        rule_start=first,
        links=_links(tokens),
        missing_alt=_missing_alt(tokens),
    )
