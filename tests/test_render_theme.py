"""Themes: bundled and local, site overrides file by file, strict templates."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import commsite.themes
import pytest

import sample_site
from commsite.errors import CommsiteError
from commsite.render.pages import PageSpec, plan_pages
from commsite.render.renderer import Renderer, RenderError
from commsite.render.theme import (
    HIGHLIGHT_CSS,
    bundled_themes,
    compact_css,
    generated_assets,
    resolve_theme,
    theme_assets,
)

DEFAULT = Path(commsite.themes.__file__).parent / "default"


def story_spec() -> PageSpec:
    return next(s for s in plan_pages(sample_site.site()) if s.path == "stories/tricky/")


def test_default_theme(tmp_path: Path) -> None:
    theme = resolve_theme(tmp_path, sample_site.config())
    assert theme.template_dirs == (DEFAULT / "templates",)
    assert theme.asset_dirs == (DEFAULT / "static",)
    assert "default" in bundled_themes()
    assets = theme_assets(theme)
    assert assets["assets/style.css"] == DEFAULT / "static" / "assets" / "style.css"


def test_unknown_theme_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(CommsiteError) as info:
        resolve_theme(tmp_path, sample_site.config(theme="fancy"))
    # (a Diagnostic the build reports as it is, not a message it parses back)
    (problem,) = info.value.diagnostics
    assert (problem.path, problem.line) == ("commsite.yaml", None)
    assert problem.message.startswith("theme 'fancy' not found")
    assert "'default'" in problem.message
    assert str(info.value) == problem.format()


def test_a_theme_given_as_a_path_falls_back_to_the_default(tmp_path: Path) -> None:
    (tmp_path / "mytheme" / "templates").mkdir(parents=True)
    (tmp_path / "mytheme" / "templates" / "rules.html").write_text("my rules", encoding="utf-8")
    theme = resolve_theme(tmp_path, sample_site.config(theme="mytheme"))
    assert theme.template_dirs == (tmp_path / "mytheme" / "templates", DEFAULT / "templates")
    rules = next(s for s in plan_pages(sample_site.site()) if s.path == "rules/")
    assert Renderer(theme).render(rules) == b"my rules"


def test_site_overrides_a_template_and_an_asset_file_by_file(tmp_path: Path) -> None:
    templates = tmp_path / "theme" / "templates"
    templates.mkdir(parents=True)
    (templates / "macros.html").write_text(
        (DEFAULT / "templates" / "macros.html")
        .read_text(encoding="utf-8")
        .replace("Reply from Mastodon", "Answer us from the fediverse"),
        encoding="utf-8",
    )
    static = tmp_path / "theme" / "static" / "assets"
    static.mkdir(parents=True)
    (static / "style.css").write_text("body { color: red }", encoding="utf-8")
    (static / "extra.css").write_text("p {}", encoding="utf-8")

    theme = resolve_theme(tmp_path, sample_site.config())
    assert theme.template_dirs[0] == templates
    renderer = Renderer(theme)
    html = renderer.render(story_spec()).decode("utf-8")
    assert "Answer us from the fediverse" in html  # the site's macros.html...
    assert "<!doctype html>" in html  # ...inside the theme's base.html and story.html

    assets = theme_assets(theme)
    assert assets["assets/style.css"] == static / "style.css"
    assert assets["assets/extra.css"] == static / "extra.css"
    assert assets["assets/favicon.svg"] == DEFAULT / "static" / "assets" / "favicon.svg"

    files = renderer.template_files("story.html")
    assert templates / "macros.html" in files
    assert DEFAULT / "templates" / "base.html" in files
    assert DEFAULT / "templates" / "story.html" in files
    assert DEFAULT / "templates" / "macros.html" not in files


def test_a_site_macros_html_without_the_pager_still_renders_the_paginated_lists(
    tmp_path: Path,
) -> None:
    """A site that replaced macros.html with a copy from before the pager existed
    (the story list had it inline): the lists take theirs from pager.html."""
    templates = tmp_path / "theme" / "templates"
    templates.mkdir(parents=True)
    macros = (DEFAULT / "templates" / "macros.html").read_text(encoding="utf-8")
    macros = re.sub(r"{% macro pager.*?{% endmacro %}", "", macros, flags=re.DOTALL)
    (templates / "macros.html").write_text(macros, encoding="utf-8")
    assert "pager" not in macros
    renderer = Renderer(resolve_theme(tmp_path, sample_site.config()))
    # Every story tagged "food": with per_page 2, the tag has pages as the list has.
    stories = tuple(replace(story, tags=("food",)) for story in sample_site.STORIES)
    specs = {s.path: s for s in plan_pages(sample_site.site(stories=stories))}
    for path in ("stories/", "stories/page/2/", "tags/food/", "tags/food/page/2/"):
        assert 'class="pagination"' in renderer.render(specs[path]).decode("utf-8"), path


def test_template_files_follow_extends_includes_and_imports(tmp_path: Path) -> None:
    renderer = Renderer(resolve_theme(tmp_path, sample_site.config()))
    names = {p.name for p in renderer.template_files("home.html")}
    # macros.html imports attendance.html: followed through imports of imports
    assert names == {"home.html", "base.html", "macros.html", "attendance.html", "copy-button.html"}
    rules = {p.name for p in renderer.template_files("rules.html")}
    assert rules == {"rules.html", "base.html", "copy-button.html"}  # (the footer's handle)


def test_strict_undefined_catches_a_typo(tmp_path: Path) -> None:
    templates = tmp_path / "theme" / "templates"
    templates.mkdir(parents=True)
    (templates / "rules.html").write_text(
        '{% extends "base.html" %}\n{% block content %}\n{{ rules.titel }}\n{% endblock %}\n',
        encoding="utf-8",
    )
    renderer = Renderer(resolve_theme(tmp_path, sample_site.config()))
    rules = next(s for s in plan_pages(sample_site.site()) if s.path == "rules/")
    with pytest.raises(RenderError) as info:
        renderer.render(rules)
    message = str(info.value)
    assert f"{templates / 'rules.html'}:3: error:" in message
    assert "titel" in message


def test_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    templates = tmp_path / "theme" / "templates"
    templates.mkdir(parents=True)
    (templates / "page.html").write_text("line one\n{% if %}\n", encoding="utf-8")
    renderer = Renderer(resolve_theme(tmp_path, sample_site.config()))
    about = next(s for s in plan_pages(sample_site.site()) if s.path == "about/")
    with pytest.raises(RenderError, match=r"page\.html:2: error: "):
        renderer.render(about)


def test_autoescape_is_on_for_html(tmp_path: Path) -> None:
    renderer = Renderer(resolve_theme(tmp_path, sample_site.config()))
    spec = story_spec()
    html = renderer.render(replace(spec, context={**spec.context})).decode("utf-8")
    assert "&lt;Night&gt;" in html


def test_generated_highlight_css_is_compact_and_keeps_dark_mode() -> None:
    css = generated_assets()[HIGHLIGHT_CSS].decode("utf-8")
    assert "/*" not in css
    assert "@media (prefers-color-scheme: dark){" in css
    assert css.count("{") == css.count("}")
    assert ".highlight .k" in css


def test_compact_css_groups_identical_blocks() -> None:
    css = ".a { color: red } /* x */\n.b { color: red }\n@media (x) {\n  .c { margin: 0 }\n}\n"
    assert compact_css(css) == ".a,.b{color:red}\n@media (x){\n.c{margin:0}\n}\n"
    css = ".h .a { color: red }\n.h .b { color: red }\n.h { color: blue }\n"
    assert compact_css(css) == ".h :is(.a,.b){color:red}\n.h{color:blue}\n"


def test_css_is_small() -> None:
    assets = theme_assets(resolve_theme(Path("/x"), sample_site.config()))
    # (The search page's own stylesheet is loaded by that page only.)
    every_page = {k: p for k, p in assets.items() if k != "assets/search.css"}
    theme_css = sum(p.stat().st_size for k, p in every_page.items() if k.endswith(".css"))
    generated = sum(len(v) for k, v in generated_assets().items() if k.endswith(".css"))
    # 20 KiB until the home page's people, the interest filter and the follow form
    # (issue 16) took 1.7 KiB of it.
    assert theme_css + generated < 22 * 1024
