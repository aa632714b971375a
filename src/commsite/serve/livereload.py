"""Live reload in `commsite serve`: the build events and the script that reads them.

The script exists only in serve: pages are stored without it (the build never
sees it) and the server adds it to each HTML response on the way out.

The server sends a Server-Sent Event `build` when a stream opens and after each
build (or failed build); its `id:` is the build's and its data is one line of
JSON:

    {"id": "<boot>-<n>", "after": "<boot>-<m>", "failed": false,
     "changed": ["stories/x/index.html", "assets/style.css"], "warnings": "<key>"}

(`warnings` is there only when the build had any.)

A page opens its stream with `?since=<the build it was served from>`, and
EventSource sends the last event's id back (Last-Event-ID) when it reconnects.
`after` is that build, and `changed` lists the output files every build since
then wrote or removed that an open tab can show or load. So a page that was
loading while a build finished learns what that build changed instead of
reloading again. `changed` is null ("assume everything changed") when the
server cannot tell: after a full build, when more than MAX_CHANGED files
changed, when the build named is too old or from before a restart.

The script knows the build its page was served from and which output file the
page is, and keeps the page (taking the new id as its own) only when the event
follows that build, the build did not fail, the page is not the error page, and
`changed` names neither its file nor any non-HTML file (a stylesheet, script,
image or font every page may use), and the build's warnings (shown at the top
of every page, see banner.py) are the ones the page shows. Otherwise it
reloads: after a change to its page, when it cannot be told what changed, and
after the server restarted (the boot part of the id differs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from commsite import urls
from commsite.site_files import content_type_for

__all__ = [
    "EVENTS_PATH",
    "MAX_CHANGED",
    "build_event",
    "inject_reload_script",
    "reaches_pages",
    "reload_script",
]

EVENTS_PATH = "/__commsite/events"
MAX_CHANGED = 1000

# Documents for other programs, which no page loads: feeds, calendars, the
# sitemap, robots.txt and deploy configs (the federation documents and feeds
# are named by content_type_for; the rest have no extension or one of these).
_NOT_LOADED_BY_PAGES = frozenset({urls.SITEMAP, urls.ROBOTS})
_NOT_LOADED_SUFFIXES = frozenset({"", ".ics", ".conf"})


def reaches_pages(path: str) -> bool:
    """Whether a change to output file `path` can show in an open tab: an HTML
    page, or a file pages load (stylesheets, scripts, images, fonts, anything
    unknown). Federation documents, feeds, calendars, the sitemap, robots.txt
    and deploy configs cannot."""
    if path.endswith(".html"):
        return True
    if path in _NOT_LOADED_BY_PAGES or content_type_for(path) is not None:
        return False
    return PurePosixPath(path).suffix not in _NOT_LOADED_SUFFIXES


def build_event(
    build: str,
    *,
    after: str | None,
    failed: bool,
    changed: Iterable[str] | None,
    warnings: str = "",
) -> bytes:
    """One `build` event, framed for the stream: `changed` None means unknown;
    `warnings` names the build's set of warnings (banner.warnings_key)."""
    shown = None if changed is None else sorted(p for p in changed if reaches_pages(p))
    if shown is not None and len(shown) > MAX_CHANGED:
        shown = None
    event: dict[str, object] = {"id": build, "after": after, "failed": failed, "changed": shown}
    if warnings:  # no key: no warnings
        event["warnings"] = warnings
    data = json.dumps(event)
    # `id:` is what EventSource sends back as Last-Event-ID when it reconnects
    # (a build id has no newline; json.dumps never writes one).
    return f"event: build\nid: {build}\ndata: {data}\n\n".encode()


# `served` is this page's build: its id, whether it is the error page (any
# build replaces it) and whether it is the not-found page (404.html is then
# its file too). A page's output file is its path: "/" is index.html,
# "/a/b/" is a/b/index.html; the site is served at the root.
_SCRIPT = """<script>/* commsite serve: live reload (not in built output) */
(() => {
  const served = SERVED;
  let current = served.id;
  let files = null;
  try {
    const path = decodeURIComponent(location.pathname).slice(1);
    const file = path === "" || path.endsWith("/") ? path + "index.html" : path;
    files = served.notFound ? [file, "404.html"] : [file];
  } catch {}
  // The build follows this page's own and changed nothing it shows or loads
  // (its warnings, shown at the top of every page, included).
  const unaffected = (b) =>
    b.after === current && !b.failed && !served.error && files !== null &&
    (b.warnings || "") === (served.warnings || "") &&
    Array.isArray(b.changed) &&
    !b.changed.some((f) => files.includes(f) || !f.endsWith(".html"));
  const events = new EventSource("EVENTS_PATH?since=" + encodeURIComponent(served.id));
  events.addEventListener("build", (e) => {
    const b = JSON.parse(e.data);
    if (b.id === current) return;
    if (unaffected(b)) {
      current = b.id;
      return;
    }
    events.close();
    location.reload();
  });
})();
</script>""".replace("EVENTS_PATH", EVENTS_PATH)


def reload_script(
    build: str, *, error: bool = False, not_found: bool = False, warnings: str = ""
) -> str:
    """The script for a page served from build `build` (the error or not-found
    page), showing the set of warnings named `warnings`."""
    facts: dict[str, object] = {"id": build, "error": error, "notFound": not_found}
    if warnings:  # no key: no warnings
        facts["warnings"] = warnings
    served = json.dumps(facts)
    return _SCRIPT.replace("SERVED", served.replace("<", "\\u003c"))


_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)


def inject_reload_script(
    html: bytes,
    build: str,
    *,
    error: bool = False,
    not_found: bool = False,
    warnings: str = "",
) -> bytes:
    """Insert the reload script before the last </body>, or at the end when there is none."""
    script = reload_script(build, error=error, not_found=not_found, warnings=warnings)
    data = script.encode("utf-8")
    matches = list(_BODY_END.finditer(html))
    if not matches:
        return html + data
    at = matches[-1].start()
    return html[:at] + data + html[at:]
