"""Links and images in the content that point nowhere on the built site.

Pure: from the site, each content file's links (collected while its Markdown
was rendered: `ParsedFile.links`) and the paths of every file the build plans
to write (pages, static files, feeds, federation documents), the warnings
`PATH:LINE: warning: broken link '/stories/nope/' (did you mean
'/stories/nope-2/'?)`. `commsite check`, `build` and `serve` all report them.

An address is internal when, resolved against its page's own URL, it falls
under the site's base_url (a root-relative `/stories/x/`, a relative `../x/`,
or `https://our.host/stories/x/`). Its query is ignored, its path
percent-decoded; a folder without its trailing slash counts (static hosts
redirect `/stories/x` to `/stories/x/`). A fragment must be an id on the page
it names, when that page shows a content body: the heading ids, `rule-N` on
the rules page, footnotes, and the ids the theme puts around every body.
Outside addresses are returned for `--external` (see external.py), with the
front matter's (`front_matter_links`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

from commsite import urls
from commsite.content.bodies import content_pages
from commsite.content.model import Site
from commsite.content.parse import ParsedFile
from commsite.errors import Diagnostic, Severity
from commsite.markdown import THEME_IDS

__all__ = ["ExternalLink", "LinkReport", "check_links", "front_matter_links"]

Links = tuple[tuple[str, int, bool], ...]  # (address, line, is an image), as ParsedFile has them

# Ids made around a body on every page that shows one (render/threads.anchor_id).
_MADE_IDS = re.compile(r"(?:reply|intro)-[0-9a-f]{10}")
_IDS = re.compile(r"""\sid\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_WEB = ("http", "https")
NEAR = 0.75  # how alike a path must be to an existing one to be offered instead


@dataclass(frozen=True, slots=True)
class ExternalLink:
    """An address outside the site, where it is written."""

    url: str
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class LinkReport:
    broken: tuple[Diagnostic, ...]
    external: tuple[ExternalLink, ...] = field(default=())


def front_matter_links(site: Site, parsed: Iterable[ParsedFile]) -> tuple[ExternalLink, ...]:
    """The web addresses of the front matter, for --external: members' `links`,
    events' `online` and `location.url` (each at its key's line)."""
    lines = {f.path: f.key_lines for f in parsed}
    found: list[ExternalLink] = []
    for member in site.members:
        at = lines.get(member.source, {}).get("links", 1)
        found += [ExternalLink(url, member.source, at) for _, url in member.links]
    for event in site.events:
        keys = lines.get(event.source, {})
        if event.online:
            found.append(ExternalLink(event.online, event.source, keys.get("online", 1)))
        if event.location is not None and event.location.url:
            found.append(ExternalLink(event.location.url, event.source, keys.get("location", 1)))
    return tuple(link for link in found if link.url.lower().startswith(("http://", "https://")))


def check_links(
    site: Site,
    links: Mapping[str, Links],
    files: Collection[str],
    *,
    external: bool = True,
) -> LinkReport:
    """The broken internal links of the site's content, and (with `external`) its
    outside links.

    `links`: content file -> its links (ParsedFile.links); `files`: every output
    file path the build plans ("stories/x/index.html", "feed.xml", ...)."""
    base = site.config.base_url
    if not base.endswith("/"):
        base += "/"
    parts = urlsplit(base)
    origin = (parts.scheme.lower(), parts.netloc.lower())
    prefix = parts.path  # "/" or "/club/"
    ours = base.lower()
    targets = _Targets(files, site)
    broken: list[Diagnostic] = []
    outside: list[ExternalLink] = []
    # An address that names its host or starts with "/" means the same on every
    # page: resolved once (a site's links to its own rules, say, recur).
    known: dict[str, tuple[str, str | None, str]] = {}
    for source, page, _ in content_pages(site, links):
        here = base + page
        for address, line, image in links[source]:
            if address in ("", "#"):
                continue
            if not external and "://" in address[:8] and not address.lower().startswith(ours):
                continue  # (an outside address, not asked for)
            resolved = known.get(address)
            if resolved is None:
                resolved = _resolve(address, here, origin, prefix)
                if address.startswith("/") or ":" in address.partition("/")[0]:
                    known[address] = resolved
            url, path, fragment = resolved
            if path is None:
                if url and external:
                    outside.append(ExternalLink(url, source, line))
                continue
            problem = targets.problem(path, fragment, prefix, page)
            if problem is not None:
                what = "image" if image else "link"
                shown = unquote(address)
                broken.append(
                    Diagnostic(
                        source, line, f"broken {what} '{shown}' ({problem})", Severity.WARNING
                    )
                )
    return LinkReport(tuple(broken), tuple(outside))


def _resolve(
    address: str, here: str, origin: tuple[str, str], prefix: str
) -> tuple[str, str | None, str]:
    """(outside URL, "", "") or ("", path under the site, fragment) of an address
    on the page at `here`; ("", None, "") for one not on the web (mailto: ...)."""
    if address.startswith("/") and not address.startswith("//") and "/." not in address:
        # Root-relative (most internal links): what urljoin and urlsplit would
        # give, at a tenth of the cost.
        rest, _, fragment = address.partition("#")
        path = rest.partition("?")[0]
        if path.startswith(prefix):
            return ("", unquote(path[len(prefix) :]), unquote(fragment))
    absolute = address if "://" in address[:8] else urljoin(here, address)
    split = urlsplit(absolute)
    scheme = split.scheme.lower()
    if scheme not in _WEB:
        return ("", None, "")
    if (scheme, split.netloc.lower()) != origin or not split.path.startswith(prefix):
        return (absolute.partition("#")[0], None, "")
    return ("", unquote(split.path[len(prefix) :]), unquote(split.fragment))


class _Targets:
    """What an internal address may name: the planned files, and the ids of pages."""

    def __init__(self, files: Collection[str], site: Site) -> None:
        self.files = files
        self.site = site
        self._bodies: dict[str, str] | None = None
        self._ids: dict[str, frozenset[str]] = {}
        self._near: dict[str, list[str]] = {}

    def page_of(self, path: str) -> str | None:
        """The page path an address path names ("stories/x/"), or the file's own
        path; None when nothing is there."""
        if path == "" or path.endswith("/"):
            return path if path + "index.html" in self.files else None
        if path in self.files:
            return path[: -len("index.html")] if path.endswith("/index.html") else path
        if path + "/index.html" in self.files:
            return path + "/"  # a static host redirects the folder to its slash
        return None

    def problem(self, path: str, fragment: str, prefix: str, here: str) -> str | None:
        page = self.page_of(path)
        if page is None:
            near = self.nearest(path)
            if near is None:
                return "the site has no such page or file"
            return f"did you mean '{prefix}{near}'?"
        if not fragment or page not in self.bodies:
            return None
        ids = self.ids(page)
        if fragment in ids or fragment in THEME_IDS or _MADE_IDS.fullmatch(fragment):
            return None
        where = "this page" if page == here else f"'{prefix}{page}'"
        if page == urls.RULES and fragment.startswith("rule-"):
            numbers = sorted(int(i[5:]) for i in ids if re.fullmatch(r"rule-\d+", i))
            if numbers:
                first, last = numbers[0], numbers[-1]
                return f"{where} has no anchor '{fragment}': its rules go from {first} to {last}"
        close = difflib.get_close_matches(fragment, sorted(ids), n=1, cutoff=0.8)
        hint = f"; did you mean '#{close[0]}'?" if close else ""
        return f"{where} has no anchor '{fragment}'{hint}"

    @property
    def bodies(self) -> dict[str, str]:
        """Page path -> the body it shows (made when a fragment is first checked)."""
        if self._bodies is None:
            self._bodies = {page: body for _, page, body in content_pages(self.site)}
        return self._bodies

    def ids(self, page: str) -> frozenset[str]:
        found = self._ids.get(page)
        if found is None:
            body = self.bodies[page]
            found = frozenset(
                m.group(1) or m.group(2) or m.group(3) or "" for m in _IDS.finditer(body)
            )
            self._ids[page] = found
        return found

    def nearest(self, path: str) -> str | None:
        """The closest existing page or file path in the same top-level folder of
        the site, when the rest of it is close (by edit distance)."""
        folder = path.partition("/")[0] + "/" if "/" in path.rstrip("/") else ""
        candidates = self._near.get(folder)
        if candidates is None:
            candidates = sorted(_shown_paths(self.files, folder))
            self._near[folder] = candidates
        rest = path[len(folder) :]
        if not rest.endswith("/") and "." not in rest.rpartition("/")[2]:
            rest += "/"  # (a page named without its slash)
        near = difflib.get_close_matches(rest, candidates, n=1, cutoff=NEAR)
        return folder + near[0] if near else None


def _shown_paths(files: Iterable[str], folder: str) -> Iterable[str]:
    """The paths under the top-level `folder` ("stories/"; "" for the top level)
    as readers write them, without the folder: "x/" for "stories/x/index.html"."""
    for file in files:
        shown = file[: -len("index.html")] if file.endswith("index.html") else file
        if not shown.startswith(folder):
            continue
        rest = shown[len(folder) :]
        if rest and (folder or "/" not in rest.rstrip("/")):
            yield rest
