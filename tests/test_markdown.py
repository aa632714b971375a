"""commsite.markdown: the Markdown dialect organisers write in."""

from __future__ import annotations

import re
from pathlib import Path

from commsite.markdown import (
    SUMMARY_LENGTH,
    THEME_IDS,
    pygments_css,
    render_markdown,
    render_reference,
)


def test_commonmark_with_raw_html() -> None:
    r = render_markdown('Hello *world* <span class="x">raw</span>\n\n<div>block</div>\n')
    assert r.html == ('<p>Hello <em>world</em> <span class="x">raw</span></p>\n<div>block</div>\n')


def test_tables_strikethrough_tasklists() -> None:
    html = render_markdown("| a | b |\n|---|---|\n| 1 | ~~2~~ |\n\n- [x] done\n- [ ] todo\n").html
    assert "<table>" in html and "<td><s>2</s></td>" in html
    assert 'class="task-list-item-checkbox" checked="checked" disabled="disabled"' in html
    assert html.count('type="checkbox"') == 2


def test_footnotes() -> None:
    html = render_markdown("Text[^n].\n\n[^n]: The note.\n").html
    assert '<sup class="footnote-ref"><a href="#fn1" id="fnref1">[1]</a></sup>' in html
    assert '<li id="fn1" class="footnote-item"><p>The note.' in html


def test_heading_anchors() -> None:
    html = render_markdown("# Spring repair day\n\n### What to bring\n").html
    assert '<h1 id="spring-repair-day">Spring repair day</h1>' in html
    assert '<h3 id="what-to-bring">What to bring</h3>' in html


def test_known_language_is_highlighted_with_classes() -> None:
    html = render_markdown("```python\ndef f():\n    return 1\n```\n").html
    assert html.startswith('<div class="highlight"><pre>')
    assert '<span class="k">def</span>' in html
    assert "style=" not in html


def test_unknown_language_is_escaped_plain_code() -> None:
    html = render_markdown("```nosuchlang\n<b>&</b>\n```\n").html
    assert (
        html == '<pre><code class="language-nosuchlang">&lt;b&gt;&amp;&lt;/b&gt;\n</code></pre>\n'
    )


def test_fence_without_language() -> None:
    assert render_markdown("```\nx < y\n```\n").html == "<pre><code>x &lt; y\n</code></pre>\n"


def test_summary_is_plain_text_of_first_paragraphs() -> None:
    r = render_markdown("# Title\n\nFirst *para* with [a link](https://x.example).\n\nSecond.\n")
    assert r.summary == "First para with a link. Second."


def test_summary_is_cut_at_a_word_with_ellipsis() -> None:
    r = render_markdown(" ".join(["word"] * 100))
    assert len(r.summary) <= SUMMARY_LENGTH
    assert r.summary.endswith("word…")


def test_rule_items_and_anchors() -> None:
    text = "Intro.\n\n1. Be *kind*.\n2. Share\n   tools.\n\n- not a rule\n\n1. later list\n"
    plain = render_markdown(text)  # (not the rules page: no rules read, both engines)
    assert plain.rule_items == () and render_reference(text).rule_items == ()
    assert "rule-1" not in plain.html
    anchored = render_markdown(text, rule_anchors=True)
    assert anchored.rule_items == ("Be kind.", "Share tools.")
    assert '<li id="rule-1">Be <em>kind</em>.</li>' in anchored.html
    assert '<li id="rule-2">Share\ntools.</li>' in anchored.html
    assert "rule-3" not in anchored.html


def test_nested_ordered_list_is_not_the_rules() -> None:
    r = render_markdown("- outer\n  1. nested\n", rule_anchors=True)
    assert r.rule_items == ()
    assert "rule-" not in r.html


def test_pygments_css_light_and_dark() -> None:
    css = pygments_css()
    assert ".highlight .k {" in css
    assert "@media (prefers-color-scheme: dark)" in css
    light, dark = css.split("@media (prefers-color-scheme: dark)")
    assert ".highlight {" in light and ".highlight {" in dark


def test_theme_ids_lists_every_fixed_id_of_the_default_theme() -> None:
    templates = Path(__file__).parent.parent / "themes" / "default" / "templates"
    fixed = {
        m.group(1)
        for page in templates.rglob("*.html")
        for m in re.finditer(r'\sid="([^"{]+)"', page.read_text(encoding="utf-8"))
    }
    assert "main" in fixed
    assert fixed <= THEME_IDS, sorted(fixed - THEME_IDS)


def test_heading_ids_avoid_the_theme_and_footnote_ids() -> None:
    html = render_markdown(
        "## Main\n\n## Main\n\n## Stories heading\n\n## fn1\n\nx[^a]\n\n[^a]: n\n"
    ).html
    assert '<h2 id="main-1">Main</h2>' in html
    assert '<h2 id="main-2">Main</h2>' in html
    assert '<h2 id="stories-heading-1">Stories heading</h2>' in html
    assert '<h2 id="fn1-1">fn1</h2>' in html
    assert '<li id="fn1" class="footnote-item">' in html
    assert html.count('id="main"') == 0


def test_heading_ids_on_the_rules_page_avoid_the_rule_anchors() -> None:
    text = "## Rule 1\n\n1. Be kind.\n2. Share tools.\n\n## Rule 2 explained\n"
    html = render_markdown(text, rule_anchors=True).html
    assert '<h2 id="rule-1-1">Rule 1</h2>' in html
    assert '<li id="rule-1">Be kind.</li>' in html
    assert '<h2 id="rule-2-explained">Rule 2 explained</h2>' in html
    # Elsewhere rule-N is a heading id like any other.
    assert '<h2 id="rule-1">Rule 1</h2>' in render_markdown("## Rule 1\n").html
