"""A long fediverse handle on a 320 px screen: it may break only before its
second '@', never inside the user or host name. Drives Debian's Chromium with
the default theme's real style sheet and the real handle_parts filter."""

from __future__ import annotations

from pathlib import Path

from browser import chromium_browser
from commsite.content.config_loader import derive_handle
from commsite.render.renderer import handle_parts

STYLE = Path(__file__).parents[1] / "themes" / "default" / "static" / "assets" / "style.css"
TITLE = "The Bouldering and Climbing Club of Eastfield and Westfield"


def test_a_long_handle_breaks_only_before_its_host() -> None:
    handle = f"@{derive_handle(TITLE)}@climbing.example"
    parts = handle_parts(handle)
    html = (
        f"<!doctype html><html><head><style>{STYLE.read_text(encoding='utf-8')}</style>"
        '</head><body><footer class="site-footer"><ul class="site-footer__links">'
        f'<li>Follow <strong class="handle" id="footer">{parts}</strong> from Mastodon</li>'
        '</ul></footer><p class="follow-box__handle">'
        f'<code class="handle" id="box">{parts}</code></p></body></html>'
    )
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 320, "height": 640})
        page.set_content(html)
        for where in ("footer", "box"):
            lines = page.evaluate(
                """id => [...document.getElementById(id).querySelectorAll('.handle__part')]
                    .map(part => ({text: part.textContent,
                                   lines: part.getClientRects().length,
                                   top: part.getBoundingClientRect().top}))""",
                where,
            )
            assert [part["text"] for part in lines] == [
                "@" + derive_handle(TITLE),
                "@climbing.example",
            ]
            assert [part["lines"] for part in lines] == [1, 1], where  # no mid-word break
            assert lines[1]["top"] > lines[0]["top"], where  # broken before the host
            text = page.evaluate("id => document.getElementById(id).innerText", where)
            assert text.replace("\n", "") == handle  # copies as one handle
