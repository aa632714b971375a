"""The page `commsite serve` shows instead of the site while a build fails."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from commsite.errors import Diagnostic, count_line

__all__ = ["error_page"]


def error_page(diagnostics: Sequence[Diagnostic], *, site_title: str = "commsite") -> bytes:
    """A self-contained HTML page listing every diagnostic as PATH:LINE: message.

    It carries no reload script itself; the server injects it like everywhere
    else, so the page recovers by itself once the file is fixed.
    """
    items = "\n".join(
        f'<li class="{escape(d.severity.value)}"><code>{escape(d.format())}</code></li>'
        for d in diagnostics
    )
    summary = escape(count_line(diagnostics))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Build failed · {escape(site_title)}</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;padding:2rem;background:#fff8f6;color:#1d1b1a}}
main{{max-width:60rem;margin:auto}}
h1{{color:#9b1c1c;margin-top:0}}
ul{{padding:0;list-style:none}}
li{{background:#fff;border-left:4px solid #9b1c1c;padding:.6rem .9rem;margin:.5rem 0;
  overflow-wrap:anywhere}}
li.warning{{border-color:#8a5a00}}
code{{font:14px/1.5 ui-monospace,monospace;white-space:pre-wrap}}
@media (prefers-color-scheme:dark){{body{{background:#1d1414;color:#f3e9e7}}
  li{{background:#2a1f1f}}h1{{color:#ff9b9b}}}}
</style>
</head>
<body>
<main>
<h1>The site did not build</h1>
<p>{summary}. Fix the file and save: this page reloads by itself.</p>
<ul id="commsite-diagnostics">
{items}
</ul>
</main>
</body>
</html>
""".encode()
