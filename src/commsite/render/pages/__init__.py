"""The HTML pages of a site, one module per page kind (see plan.py)."""

from commsite.render.pages.plan import all_tags, plan_pages
from commsite.render.pages.site_pages import HOME_EVENTS, HOME_MEMBERS, HOME_STORIES
from commsite.render.pages.spec import Key, LazyContext, PageMemo, PageSpec
from commsite.render.pages.stories import page_window

__all__ = [
    "HOME_EVENTS",
    "HOME_MEMBERS",
    "HOME_STORIES",
    "Key",
    "LazyContext",
    "PageMemo",
    "PageSpec",
    "all_tags",
    "page_window",
    "plan_pages",
]
