"""The output files a build of the site would write, without rendering anything.

`commsite check` checks links against these (see links/check.py); the build uses
its own plan's paths (plan.make_plan), and tests/test_linkcheck.py holds the
two equal. Made from the same planners the build calls: the page specs
(render.pages.plan_pages), the theme's and the generated assets, static/, the
feeds and calendars (build.site_documents), the federation plan and the sitemap.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from commsite import urls
from commsite.activitypub.documents import federation_plan
from commsite.build.page_outputs import read_tree as _read_tree
from commsite.build.plan import STATIC_DIR
from commsite.content.model import Site
from commsite.content.parse import ParsedFile
from commsite.content.safe_files import site_fence
from commsite.errors import CommsiteError
from commsite.links.check import LinkReport, check_links, front_matter_links
from commsite.render.pages import plan_pages
from commsite.render.theme import Theme, generated_assets, resolve_theme, theme_assets
from commsite.site_files.deploy import deploy_configs

__all__ = ["planned_files", "site_links"]


def planned_files(site: Site, theme: Theme, root: Path) -> set[str]:
    """Every output file path ("stories/x/index.html", "feed.xml", ...)."""
    found = set(generated_assets())
    found.update(theme_assets(theme))
    # (Through the site's fence, as the build reads static/: nothing behind a link out.)
    fence = site_fence(root, site.config.sidecar.data_dir)
    found.update(_read_tree(fence, root / STATIC_DIR))
    found.update(urls.output_file(spec.path) for spec in plan_pages(site, event_calendars=True))
    found.update((urls.FEED_ATOM, urls.FEED_JSON, urls.ROBOTS, urls.EVENTS_ICS, urls.SITEMAP))
    found.update(urls.event_ics(event.slug) for event in site.events)
    federation = federation_plan(site)
    found.update(federation.documents)
    found.update(path for path, _ in federation.objects)
    found.update(page.path for page in federation.outbox_pages)
    found.update(deploy_configs(site))
    return found


def site_links(site: Site, root: Path, parsed: Iterable[ParsedFile]) -> LinkReport:
    """The link report of `commsite check`: the content's links (as parsed)
    against the files a build would write. A theme that does not resolve leaves
    the links unchecked (the build reports the theme's problem)."""
    try:
        theme = resolve_theme(root, site.config)
    except CommsiteError:
        return LinkReport(())
    files = list(parsed)
    links = {f.path: f.links for f in files if f.links}
    report = check_links(site, links, planned_files(site, theme, root))
    return LinkReport(report.broken, report.external + front_matter_links(site, files))
