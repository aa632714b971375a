"""commsite.links: links in the content that point nowhere.

- check.py: the content's internal links and images against the files a build
  writes (pure; `commsite check`, `build` and `serve` report them), and the
  outside addresses for `--external` (bodies' and front matter's);
- external.py: those outside addresses asked over HTTP (`check --external`),
  the answers kept a day in the data directory.

The files a build would write, for `commsite check`, come from the build's
planners (build/link_targets.py).
"""
