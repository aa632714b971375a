"""commsite.render: the model as HTML pages through Jinja2 templates.

- theme.py: which template and asset directories a site uses (site overrides first)
- views.py, dates.py, threads.py: the template-facing views, built by pure functions
- pages.py: plan_pages(site) -> every HTML page as a PageSpec(path, template, context)
- renderer.py: Renderer(theme).render(spec) -> bytes

Tag slugs live below, in commsite.slugs (commsite.urls uses them too).
"""
