"""The hand-written keys of the pages that do not record their reads yet: the
story pages (and their neighbours' skip in stories.story_pages). Every other
page kind with a key reads the site through a SiteReads (reads.py) and needs
no key; these should follow."""

from __future__ import annotations

from commsite.content.model import Site
from commsite.render.lookups import SiteIndex
from commsite.render.pages.spec import Key

__all__ = ["PageKeys"]


class PageKeys:
    """The keys of the pages about one item or listing items: the model objects
    each page function reads, besides the shared ones (config, chrome, members).
    A page function must read nothing its key leaves out; tests/test_build_cache.py
    checks a long-lived builder against clean builds."""

    def __init__(self, site: Site, index: SiteIndex, shared: Key) -> None:
        self.site = site
        self.index = index
        self.shared = shared

    def thread(self, target: str) -> Key:
        interactions = self.index.interactions
        return (interactions.replies.get(target), interactions.reactions.get(target))

    def story(self, position: int) -> Key:
        stories = self.site.stories
        story = stories[position]
        return (
            self.shared,
            story,
            stories[position - 1] if position > 0 else None,
            stories[position + 1] if position + 1 < len(stories) else None,
            self.index.events.get(story.event) if story.event else None,
            self.thread(f"stories/{story.slug}"),
            self.index.attendance.events.get(story.event) if story.event else None,
        )
