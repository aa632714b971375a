"""The pages that show a content body: a story's, an event's, a member's bio,
a page's and the rules'. Links are checked in them (links.check) and the
images they show are given variants (images.wanted)."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from typing import Any

from commsite import urls
from commsite.content.model import Site

__all__ = ["content_pages"]


def content_pages(site: Site, sources: Container[str] | None = None) -> list[tuple[str, str, str]]:
    """(source file, page path, body HTML) of every page that shows a content
    body (of those made from `sources`, when given)."""
    found = [
        (item.source, page, body)
        for items, page_of, body_of in _KINDS
        for item in items(site)
        if sources is None or item.source in sources
        for page, body in ((page_of(item), body_of(item)),)
    ]
    rules = site.rules
    if rules.source and (sources is None or rules.source in sources):
        found.append((rules.source, urls.RULES, rules.body_html))
    return found


_KINDS: tuple[
    tuple[Callable[[Site], Iterable[Any]], Callable[[Any], str], Callable[[Any], str]], ...
] = (
    (lambda s: s.stories, lambda i: urls.story_page(i.slug), lambda i: i.body_html),
    (lambda s: s.events, lambda i: urls.event_page(i.slug), lambda i: i.body_html),
    (lambda s: s.members, lambda i: urls.member_page(i.id), lambda i: i.bio_html),
    (lambda s: s.pages, lambda i: urls.page(i.slug), lambda i: i.body_html),
)
