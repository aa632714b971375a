"""The frame every page shares (Chrome) and each page's <head> (Meta)."""

from __future__ import annotations

from commsite import urls
from commsite.content.model import Site
from commsite.render.cards import federation_on, href, image_view, static_path
from commsite.render.views import Chrome, Meta, NavLink

__all__ = ["chrome_view", "meta_view"]


def chrome_view(site: Site) -> Chrome:
    config = site.config
    nav = [
        NavLink("Stories", href(config, urls.STORIES), "stories"),
        NavLink("Events", href(config, urls.EVENTS), "events"),
        NavLink("Members", href(config, urls.MEMBERS), "members"),
    ]
    if federation_on(site):  # introductions come from the fediverse: no wall without it
        nav.append(NavLink("Welcome", href(config, urls.WELCOME), "welcome"))
    nav.append(NavLink("Rules", href(config, urls.RULES), "rules"))
    nav += [NavLink(p.title, href(config, urls.page(p.slug)), f"page:{p.slug}") for p in site.pages]
    if config.search:
        nav.append(NavLink("Search", href(config, urls.SEARCH), "search"))
    community = config.community
    return Chrome(
        site_title=config.title,
        tagline=config.description,
        language=config.language,
        home_url=href(config, urls.HOME),
        nav=tuple(nav),
        stylesheets=(href(config, "assets/style.css"), href(config, "assets/highlight.css")),
        feed_atom=config.url(urls.FEED_ATOM),
        feed_json=config.url(urls.FEED_JSON),
        events_ics=href(config, urls.EVENTS_ICS),
        handle=config.fediverse_handle if federation_on(site) else None,
        logo=image_view(config, community.avatar, ""),
    )


def meta_view(
    site: Site,
    path: str,
    title: str | None,
    description: str,
    section: str,
    *,
    og_type: str = "website",
    image: str | None = None,
    activity_path: str | None = None,
    prev: str | None = None,
    next: str | None = None,
    noindex: bool = False,
) -> Meta:
    """`title` None is the home page; `image` a path under static/; `activity_path` a urls path."""
    config = site.config
    avatar = config.community.avatar
    og_image = image or avatar
    return Meta(
        title=title or config.title,
        head_title=f"{title} · {config.title}" if title else config.title,
        description=_clip((description or config.description or config.title).strip(), 300),
        canonical=config.url(path),
        section=section,
        og_type=og_type,
        og_image=config.url(static_path(og_image)) if og_image else None,
        activity_json=(
            config.url(activity_path) if activity_path and federation_on(site) else None
        ),
        prev=prev,
        next=next,
        noindex=noindex,
    )


def _clip(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with "…" when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"
