"""The live-reload script `commsite serve` injects into HTML responses.

It exists only in serve: pages are stored without it (the build never sees it)
and the server adds it to each HTML response on the way out.
"""

from __future__ import annotations

import re

__all__ = ["EVENTS_PATH", "RELOAD_SCRIPT", "inject_reload_script"]

EVENTS_PATH = "/__commsite/events"

# Server-Sent Events: the server sends "reload" after each build (or failed
# build). EventSource reconnects by itself; when it reconnects to a server that
# has since rebuilt, the first message carries the new build number and the
# page reloads, so a restarted server also refreshes open tabs.
RELOAD_SCRIPT = (
    "<script>/* commsite serve: live reload (not in built output) */"
    "(()=>{let seen=null;const es=new EventSource('" + EVENTS_PATH + "');"
    "es.addEventListener('build',e=>{"
    "if(seen!==null&&e.data!==seen){location.reload()}seen=e.data});"
    "})();</script>"
)

_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)


def inject_reload_script(html: bytes, script: str = RELOAD_SCRIPT) -> bytes:
    """Insert `script` before the last </body>, or at the end when there is none."""
    data = script.encode("utf-8")
    matches = list(_BODY_END.finditer(html))
    if not matches:
        return html + data
    at = matches[-1].start()
    return html[:at] + data + html[at:]
