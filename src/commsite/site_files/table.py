"""The served files table: for each output path, its Content-Type, the extra
headers it is sent with, and whether it is private (never served).

One table, read by everything that serves the built site: `commsite serve`
and the sidecar's `--serve-site` (through site_files.lookup), and the deploy
configs the build writes for nginx, Caddy, Netlify and Cloudflare Pages
(site_files.deploy). So the preview, the sidecar and a real web
server answer the same status, type and headers for every row; the tests run
all four against this table.

Most federation documents have no extension (ap/actor, .well-known/webfinger),
so a static server would guess their type wrong, and Mastodon rejects an actor
that is not served as activity+json. Browser-based fediverse clients fetch the
public documents from other origins, hence `Access-Control-Allow-Origin: *`.
The deploy configs are written into the output but are for the web server, not
for visitors.

A row's path is relative to the site's base path, with no leading slash; one
ending in "/" is a prefix and covers everything under it; a "*" segment stands
for any one segment (events/*/event.ics). The row that answers for a path is
the most specific one (an exact path, then a pattern, then the longest prefix);
no pattern row sits under a prefix row, so nginx, which picks an exact location,
then a `^~` prefix, then a regex, chooses the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from commsite import urls
from commsite.activitypub.media_types import ACTIVITY_JSON, JRD_JSON

__all__ = [
    "CORS",
    "RULES",
    "Rule",
    "content_type_for",
    "is_private",
    "rule_for",
    "rules",
]

OCTET_STREAM = "application/octet-stream"
CORS: tuple[tuple[str, str], ...] = (("Access-Control-Allow-Origin", "*"),)


@dataclass(frozen=True, slots=True)
class Rule:
    path: str  # relative to the base path; a trailing "/": a prefix; "*": any one segment
    content_type: str | None = None  # None: the server guesses from the extension
    headers: tuple[tuple[str, str], ...] = ()  # sent besides Content-Type
    private: bool = False  # never served: 404, as if it were not there
    federation: bool = False  # only while federation is enabled

    @property
    def prefix(self) -> bool:
        return self.path.endswith("/")

    @property
    def pattern(self) -> bool:
        return "*" in self.path

    def matches(self, rel: str) -> bool:
        if self.prefix:
            return rel.startswith(self.path)
        if self.pattern:
            want, got = self.path.split("/"), rel.split("/")
            return len(want) == len(got) and all(
                w == g or (w == "*" and g != "") for w, g in zip(want, got, strict=True)
            )
        return rel == self.path


RULES: tuple[Rule, ...] = (
    Rule(urls.WEBFINGER, JRD_JSON, CORS, federation=True),
    Rule(urls.HOST_META, "application/xrd+xml; charset=utf-8", CORS, federation=True),
    Rule(urls.NODEINFO_WELL_KNOWN, "application/json", CORS, federation=True),
    Rule(urls.NODEINFO, "application/json", CORS, federation=True),
    # Everything under ap/ is ActivityStreams: the actor, outbox pages, objects.
    Rule(urls.ACTOR.split("/", 1)[0] + "/", ACTIVITY_JSON, CORS, federation=True),
    # Anything else a site publishes under .well-known/ (from static/).
    Rule(".well-known/", None, CORS),
    Rule(urls.FEED_ATOM, "application/atom+xml; charset=utf-8"),
    Rule(urls.FEED_JSON, "application/feed+json"),
    Rule(urls.EVENTS_ICS, "text/calendar; charset=utf-8"),
    # Each event's own calendar: Debian's nginx has no type for .ics (text/plain).
    Rule(urls.event_ics("*"), "text/calendar; charset=utf-8"),
    # The search index's chunks (build.search): gzip streams that Pagefind's
    # script unpacks itself, so binary, never sent with a Content-Encoding. (Its
    # scripts and styles go by their extensions; its top-level metadata and
    # WebAssembly files, with extensions no server knows, are octet-streams.)
    Rule(urls.SEARCH_INDEX + "fragment/", OCTET_STREAM),
    Rule(urls.SEARCH_INDEX + "index/", OCTET_STREAM),
    Rule(urls.SEARCH_INDEX + "filter/", OCTET_STREAM),
    # The deploy configs: for the web server, not for visitors.
    Rule(urls.DEPLOY_DIR, private=True),
    Rule(urls.HEADERS_FILE, private=True),
    Rule(urls.REDIRECTS_FILE, private=True),
)


def rules(*, federation: bool = True) -> tuple[Rule, ...]:
    """The rows that apply to a site: without federation, none of its documents."""
    return tuple(rule for rule in RULES if federation or not rule.federation)


def rule_for(path: str, *, federation: bool = True) -> Rule | None:
    """The row that answers for `path` (relative to the base path; a leading
    slash is ignored): an exact row, else a pattern row, else the longest
    prefix; None for none."""
    rel = path.lstrip("/")
    matching = [rule for rule in rules(federation=federation) if rule.matches(rel)]
    for rule in matching:
        if not rule.prefix and not rule.pattern:
            return rule
    for rule in matching:
        if rule.pattern:
            return rule
    prefixes = [rule for rule in matching if rule.prefix]
    return max(prefixes, key=lambda rule: len(rule.path), default=None)


def is_private(path: str) -> bool:
    """True when `path` must never be served. Compared without case too, so
    that a case-insensitive file system (macOS, Windows) cannot be asked for
    `_DEPLOY/nginx.conf` and hand over `_deploy/nginx.conf`."""
    rel = path.lstrip("/")
    return any(
        rule.private and (rule.matches(rel) or rule.matches(rel.casefold())) for rule in RULES
    )


def content_type_for(path: str, *, federation: bool = True) -> str | None:
    """The table's Content-Type for an output path ('ap/actor', '/feed.xml');
    None lets the server guess from the extension."""
    rule = rule_for(path, federation=federation)
    return rule.content_type if rule is not None else None
