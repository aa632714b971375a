"""`commsite sidecar --serve-site`: the built site's files, for hosts without a web server.

Files come from the build's output directory with the Content-Type
`content_type_for` gives (the actor and objects as activity+json), and
`.well-known/webfinger` is answered live: the built JRD for any of its names
(subject, aliases, actor URL), compared case-insensitively as Mastodon does,
404 for anything else, always with `Access-Control-Allow-Origin: *`.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from urllib.parse import parse_qs, unquote

from commsite import urls
from commsite.federation.content_types import content_type_for
from commsite.sidecar.responses import Response, json_response

__all__ = ["SiteFiles"]

_CORS = ("Access-Control-Allow-Origin", "*")


class SiteFiles:
    def __init__(self, output: Path, base_path: str = "/") -> None:
        self.output = output.resolve()
        self.base_path = base_path

    def answer(self, raw_path: str, query: str) -> Response:
        path = unquote(raw_path)
        if not path.startswith(self.base_path):
            return json_response(404, {"error": "not found"})
        rel = path[len(self.base_path) :]
        if rel == urls.WEBFINGER:
            return self.webfinger(query)
        file = self._resolve(rel)
        if file is None and rel and not rel.endswith("/") and self._resolve(rel + "/"):
            location = self.base_path + rel + "/"
            return Response(301, (("Location", location),), b"")
        if file is None:
            page = self.output / urls.NOT_FOUND
            body = page.read_bytes() if page.is_file() else b"<h1>Not found</h1>"
            return Response(404, (("Content-Type", "text/html; charset=utf-8"),), body)
        out_rel = file.relative_to(self.output).as_posix()
        ctype = content_type_for(out_rel) or _guess_type(file)
        headers: tuple[tuple[str, str], ...] = (("Content-Type", ctype),)
        if out_rel.startswith(".well-known/"):
            headers = (*headers, _CORS)
        return Response(200, headers, file.read_bytes())

    def webfinger(self, query: str) -> Response:
        resource = parse_qs(query).get("resource", [""])[0].strip()
        if not resource:
            return json_response(
                400, {"error": "the resource parameter is required"}, headers=(_CORS,)
            )
        jrd_file = self.output / urls.WEBFINGER
        if not jrd_file.is_file():
            return json_response(404, {"error": "the site has not been built"}, headers=(_CORS,))
        data = jrd_file.read_bytes()
        jrd = json.loads(data)
        names = {str(jrd.get("subject", "")).lower()}
        names.update(str(a).lower() for a in jrd.get("aliases", []))
        names.update(
            str(link.get("href", "")).lower()
            for link in jrd.get("links", [])
            if link.get("rel") == "self"
        )
        if resource.lower() not in names:
            return json_response(404, {"error": f"unknown resource {resource}"}, headers=(_CORS,))
        return Response(200, (("Content-Type", "application/jrd+json"), _CORS), data)

    def _resolve(self, rel: str) -> Path | None:
        """The file a site path names inside the output, or None (never outside it)."""
        candidate = (self.output / rel).resolve()
        if candidate != self.output and self.output not in candidate.parents:
            return None
        if candidate.is_dir():
            if rel and not rel.endswith("/"):
                return None
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None


def _guess_type(file: Path) -> str:
    ctype, _ = mimetypes.guess_type(file.name)
    if ctype is None:
        return "application/octet-stream"
    if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml"):
        return f"{ctype}; charset=utf-8"
    return ctype
