"""commsite.site_files: what a URL of the built site serves, and how.

- table.py: the served files table (Content-Type, extra headers, private
  paths), the one answer for every server;
- lookup.py: URL path -> file in the output, its Content-Type and headers,
  the 404 page (used by `commsite serve` and the sidecar's `--serve-site`);
- deploy.py: the same table written as nginx, Caddy, Netlify and Cloudflare
  Pages configuration (the build writes them into the output).

The table and the lookup are re-exported here; deploy.py, which reads the
site model, is imported by name (the sidecar needs none of it).
"""

from commsite.site_files.lookup import (
    content_type,
    extra_headers,
    not_found_body,
    resolve,
    slash_location,
    wants_slash,
)
from commsite.site_files.table import (
    CORS,
    RULES,
    Rule,
    content_type_for,
    is_private,
    rule_for,
    rules,
)

__all__ = [
    "CORS",
    "RULES",
    "Rule",
    "content_type",
    "content_type_for",
    "extra_headers",
    "is_private",
    "not_found_body",
    "resolve",
    "rule_for",
    "rules",
    "slash_location",
    "wants_slash",
]
