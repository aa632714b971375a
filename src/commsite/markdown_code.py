"""Fenced code in Markdown bodies: highlighted by Pygments with CSS classes
(no inline styles; `pygments_css()` gives the stylesheet), or escaped into a
plain ``<pre><code>`` when Pygments does not know the language. Both Markdown
engines (`commsite.markdown`, `commsite.markdown_rust`) write code blocks
through `code_block`, so they highlight alike."""

from __future__ import annotations

from functools import lru_cache

from markdown_it.common.utils import escapeHtml, unescapeAll
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

__all__ = ["code_block", "fence_lang", "pygments_css"]

_DARK_STYLE = "github-dark"
_LIGHT_STYLE = "default"
_FORMATTER = HtmlFormatter(cssclass="highlight")


@lru_cache(maxsize=64)
def _lexer(name: str) -> Lexer | None:
    try:
        return get_lexer_by_name(name)
    except ClassNotFound:
        return None


@lru_cache(maxsize=256)
def code_block(lang: str, code: str) -> str:
    lexer = _lexer(lang.lower()) if lang else None
    if lexer is not None:
        return str(highlight(code, lexer, _FORMATTER))
    css = f' class="language-{escapeHtml(lang)}"' if lang else ""
    return f"<pre><code{css}>{escapeHtml(code)}</code></pre>\n"


def fence_lang(info: str) -> str:
    """The language of a fence: the first word of its info string."""
    text = unescapeAll(info).strip() if info else ""
    return text.split(maxsplit=1)[0] if text else ""


def _style_defs(style: str) -> list[str]:
    defs = HtmlFormatter(style=style, cssclass="highlight").get_style_defs(".highlight")
    return [line for line in str(defs).splitlines() if line.startswith(".highlight")]


def pygments_css() -> str:
    """Stylesheet for highlighted code: light by default, dark when the reader prefers it."""
    light = "\n".join(_style_defs(_LIGHT_STYLE))
    dark = "\n".join("  " + line for line in _style_defs(_DARK_STYLE))
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"
