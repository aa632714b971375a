"""`commsite sidecar --serve-site`: the built site's files, for hosts without a web server.

Files come from the build's output directory with the Content-Type
`content_type_for` gives (the actor and objects as activity+json), and
`.well-known/webfinger` is answered live: the built JRD for any of its names
(subject, aliases, actor URL), compared case-insensitively as Mastodon does,
404 for anything else, always with `Access-Control-Allow-Origin: *`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote

from commsite import urls
from commsite.build.served_files import content_type, not_found_body, resolve, wants_slash
from commsite.federation.webfinger import webfinger_answer
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
        file = resolve(self.output, rel)
        if file is None and wants_slash(self.output, rel):
            location = self.base_path + rel + "/"
            return Response(301, (("Location", location),), b"")
        if file is None:
            body = not_found_body(self.output)
            return Response(404, (("Content-Type", "text/html; charset=utf-8"),), body)
        out_rel = file.relative_to(self.output).as_posix()
        headers: tuple[tuple[str, str], ...] = (("Content-Type", content_type(self.output, file)),)
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
        data = webfinger_answer(jrd_file.read_bytes(), resource)
        if data is None:
            return json_response(404, {"error": f"unknown resource {resource}"}, headers=(_CORS,))
        return Response(200, (("Content-Type", "application/jrd+json"), _CORS), data)
