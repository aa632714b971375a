"""commsite.search: the site's search index, made with Pagefind.

- tool.py: which Pagefind program a build runs (no heavy imports: the
  no-change check of every build asks);
- pagefind.py: running it over a folder of built pages;
- bundle.py: making its bundle the same bytes for the same pages.

When to index, and how the bundle joins the build's record and staging
folder, is the build's (build/search.py).
"""
