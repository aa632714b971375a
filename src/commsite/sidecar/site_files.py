"""`commsite sidecar --serve-site`: the built site's files, for hosts without a web server.

Files come from the build's output directory with the Content-Type and
headers of the served files table (commsite.site_files: the actor and objects
as activity+json, CORS on the federation documents), which the deploy configs
for nginx and Caddy are written from too; its private paths (the deploy configs
themselves) answer 404. `.well-known/webfinger` is answered live: the built JRD
for any of its names (subject, aliases, actor URL), compared case-insensitively
as Mastodon does, 404 for anything else, always with the table's headers for it
(`Access-Control-Allow-Origin: *`).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote

from commsite import urls
from commsite.activitypub.webfinger import webfinger_answer
from commsite.sidecar.responses import Response, json_response
from commsite.site_files import (
    content_type,
    extra_headers,
    not_found_body,
    resolve,
    rule_for,
    slash_location,
    wants_slash,
)

__all__ = ["SiteFiles"]


class SiteFiles:
    def __init__(self, output: Path, base_path: str = "/", *, federation: bool = True) -> None:
        self.output = output.resolve()
        self.base_path = base_path
        self.federation = federation

    def answer(self, raw_path: str, query: str) -> Response:
        path = unquote(raw_path)
        if not path.startswith(self.base_path):
            return json_response(404, {"error": "not found"})
        rel = path[len(self.base_path) :]
        if rel == urls.WEBFINGER:
            return self.webfinger(query)
        file = resolve(self.output, rel)
        if file is None and wants_slash(self.output, rel):
            location = slash_location(self.base_path, rel)
            return Response(301, (("Location", location),), b"")
        if file is None:
            body = not_found_body(self.output)
            return Response(404, (("Content-Type", "text/html; charset=utf-8"),), body)
        ctype = content_type(self.output, file, federation=self.federation)
        extra = extra_headers(self.output, file, federation=self.federation)
        return Response(200, (("Content-Type", ctype), *extra), file.read_bytes())

    def webfinger(self, query: str) -> Response:
        rule = rule_for(urls.WEBFINGER)
        headers = rule.headers if rule is not None else ()
        resource = parse_qs(query).get("resource", [""])[0].strip()
        if not resource:
            return json_response(
                400, {"error": "the resource parameter is required"}, headers=headers
            )
        jrd_file = self.output / urls.WEBFINGER
        if not jrd_file.is_file():
            return json_response(404, {"error": "the site has not been built"}, headers=headers)
        data = webfinger_answer(jrd_file.read_bytes(), resource)
        if data is None:
            return json_response(404, {"error": f"unknown resource {resource}"}, headers=headers)
        ctype = rule.content_type if rule is not None and rule.content_type else "application/json"
        return Response(200, (("Content-Type", ctype), *headers), data)
