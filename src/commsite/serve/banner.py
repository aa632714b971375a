"""What the preview adds to the top of each page it serves: the build's warnings
and a mark saying the page is a preview living elsewhere.

Like the reload script, it exists only in serve's responses (never in the
files written to the preview folder, never in `commsite build` output). The
warnings part lists each warning as PATH:LINE: message and has a Dismiss
button; a dismissal holds, in this browser tab, until the warnings change.
The terminal gets the same warnings, printed when they change (not again on
every save), and one line when they are all gone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from html import escape

from commsite.errors import Diagnostic

__all__ = [
    "banner_html",
    "inject_banner",
    "warning_news",
    "warnings_key",
    "warnings_of",
]


def warnings_of(diagnostics: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
    """The warnings among a build's diagnostics, in their order, each once."""
    return tuple(dict.fromkeys(d for d in diagnostics if not d.is_error))


def warnings_key(warnings: Sequence[Diagnostic]) -> str:
    """A short name for this set of warnings ("" for none): what a dismissal remembers."""
    if not warnings:
        return ""
    text = "\n".join(sorted(d.format() for d in warnings))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def warning_news(before: Sequence[Diagnostic], after: Sequence[Diagnostic]) -> list[str]:
    """The terminal lines for a change in the set of warnings: nothing when it is the
    same set, each new warning and a count when it changed, one line when they are gone."""
    if set(before) == set(after):
        return []
    if not after:
        return ["warnings cleared: the build has none now"]
    old = set(before)
    new = [d for d in after if d not in old]
    gone = len(old - set(after))
    lines = [d.format() for d in new]
    count = f"{len(after)} warning{'s' if len(after) != 1 else ''}"
    parts = [f"{len(new)} new"] if new else []
    if gone:
        parts.append(f"{gone} fixed")
    lines.append(f"{count} ({', '.join(parts)}); the pages show them until fixed")
    return lines


_STYLE = """<style>
#commsite-preview{font:15px/1.45 system-ui,sans-serif;margin:0;padding:.5rem 1rem;
  background:#fff4d6;color:#2b2100;border-bottom:3px solid #8a5a00;overflow-wrap:anywhere}
#commsite-preview p{margin:.2rem 0}
#commsite-preview code{font:13px/1.45 ui-monospace,monospace;white-space:pre-wrap}
#commsite-preview h2{font-size:1rem;margin:.4rem 0 .2rem}
#commsite-preview ul{margin:.2rem 0 .4rem;padding-left:1.2rem}
#commsite-preview button{font:inherit;padding:.25rem .8rem;border:2px solid #5c3c00;
  border-radius:4px;background:#fff;color:#2b2100;cursor:pointer}
#commsite-preview button:focus-visible{outline:3px solid #1a4fb5;outline-offset:2px}
#commsite-preview .commsite-preview__mark strong{text-transform:uppercase;letter-spacing:.04em}
@media (prefers-color-scheme:dark){#commsite-preview{background:#2e2411;color:#fbefd2;
  border-color:#e0a93b}#commsite-preview button{background:#1d1a14;color:#fbefd2;
  border-color:#e0a93b}#commsite-preview button:focus-visible{outline-color:#8fb4ff}}
</style>"""

# Hides the warnings when this set was dismissed in this tab before, and
# remembers a dismissal; without sessionStorage, Dismiss still hides them.
_SCRIPT = """<script>/* commsite serve: the warnings banner (not in built output) */
(() => {
  const box = document.getElementById("commsite-warnings");
  if (!box) return;
  const key = "commsite-dismissed";
  const set = box.dataset.warnings;
  const hide = () => {
    box.hidden = true;
    const aside = document.getElementById("commsite-preview");
    if (aside && !aside.querySelector(".commsite-preview__mark")) aside.hidden = true;
  };
  try { if (sessionStorage.getItem(key) === set) hide(); } catch {}
  box.querySelector("button").addEventListener("click", () => {
    try { sessionStorage.setItem(key, set); } catch {}
    hide();
  });
})();
</script>"""


def banner_html(warnings: Sequence[Diagnostic], *, live_url: str | None, preview_url: str) -> bytes:
    """The block for the top of every served page: the preview mark when the site
    will live at another address than the preview's, and the warnings; empty
    when there is neither."""
    mark = ""
    if live_url and live_url.rstrip("/") != preview_url.rstrip("/"):
        mark = (
            '<p class="commsite-preview__mark"><strong>Preview</strong> — this site will live at '
            f"<code>{escape(live_url)}</code>; its handles already show that address, its "
            f"links stay on <code>{escape(preview_url)}</code>.</p>"
        )
    box = ""
    if warnings:
        count = f"{len(warnings)} build warning{'s' if len(warnings) != 1 else ''}"
        items = "\n".join(f"<li><code>{escape(d.format())}</code></li>" for d in warnings)
        box = (
            f'<div id="commsite-warnings" role="status" data-warnings="{warnings_key(warnings)}">\n'
            f'<h2 id="commsite-warnings-title">{count}</h2>\n'
            "<p><code>commsite build</code> gives the same warnings; "
            "fix the file and save, and this goes away.</p>\n"
            f"<ul>\n{items}\n</ul>\n"
            '<button type="button">Dismiss</button>\n</div>'
        )
    if not mark and not box:
        return b""
    return (
        f'{_STYLE}\n<aside id="commsite-preview" aria-label="commsite preview">\n'
        f"{mark}\n{box}\n</aside>\n{_SCRIPT if box else ''}\n"
    ).encode()


_BODY_START = re.compile(rb"<body(?:\s[^>]*)?>", re.IGNORECASE)


def inject_banner(html: bytes, banner: bytes) -> bytes:
    """Insert the banner right after the first <body> tag (at the top of the page,
    in the flow, so it pushes the page down instead of covering it)."""
    if not banner:
        return html
    match = _BODY_START.search(html)
    if match is None:
        return banner + html
    return html[: match.end()] + b"\n" + banner + html[match.end() :]
