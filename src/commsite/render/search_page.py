"""The search page (/search/): Pagefind's search box over the index the build
makes (build.search), and the tag and interest indexes for readers without
JavaScript."""

from __future__ import annotations

from commsite import urls
from commsite.content.model import Site
from commsite.render.cards import href
from commsite.render.head import meta_view
from commsite.render.lookups import SiteIndex
from commsite.render.viewclass import view

__all__ = ["INTERESTS", "SearchView", "search_page"]

INTERESTS = "interests/"  # the interest index (render.pages)


@view
class SearchView:
    bundle_url: str  # the Pagefind bundle's folder ("/pagefind/")
    base_url: str  # the site's base path, which Pagefind's result URLs are under
    tags_url: str
    interests_url: str
    script_url: str
    stylesheet_url: str


def search_page(site: Site, index: SiteIndex) -> tuple[str, str, dict[str, object]]:
    """The search page's path, template and context."""
    config = site.config
    meta = meta_view(
        site,
        urls.SEARCH,
        "Search",
        f"Search the stories, events and members of {config.title}",
        "search",
    )
    search = SearchView(
        bundle_url=href(config, urls.SEARCH_INDEX),
        base_url=config.base_path,
        tags_url=href(config, urls.TAGS),
        interests_url=href(config, INTERESTS),
        script_url=href(config, "assets/search.js"),
        stylesheet_url=href(config, "assets/search.css"),
    )
    return urls.SEARCH, "search.html", {"chrome": index.chrome, "meta": meta, "search": search}
