"""The live-reload script `commsite serve` injects into HTML responses.

It exists only in serve: pages are stored without it (the build never sees it)
and the server adds it to each HTML response on the way out.
"""

from __future__ import annotations

import json
import re

__all__ = ["EVENTS_PATH", "inject_reload_script", "reload_script"]

EVENTS_PATH = "/__commsite/events"

# Server-Sent Events: the server names its current build in every `build`
# event, first when the stream opens, then after each build (or failed build).
# The page knows which build it was served from, so it reloads whenever the
# stream names another one: after a change, when the stream connected only
# after a rebuild had finished, and after the server restarted (EventSource
# reconnects by itself).
_SCRIPT = (
    "<script>/* commsite serve: live reload (not in built output) */"
    "(()=>{const served=%s;const es=new EventSource('" + EVENTS_PATH + "');"
    "es.addEventListener('build',e=>{if(e.data!==served){es.close();location.reload()}});"
    "})();</script>"
)


def reload_script(build: str) -> str:
    """The script for a page served from build `build`."""
    return _SCRIPT % json.dumps(build)


_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)


def inject_reload_script(html: bytes, build: str) -> bytes:
    """Insert the reload script before the last </body>, or at the end when there is none."""
    data = reload_script(build).encode("utf-8")
    matches = list(_BODY_END.finditer(html))
    if not matches:
        return html + data
    at = matches[-1].start()
    return html[:at] + data + html[at:]
