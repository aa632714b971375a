"""commsite.render: the model as HTML pages through Jinja2 templates.

- theme.py: which template and asset directories a site uses (site overrides first)
- views.py: the template-facing views (frozen dataclasses), built by pure functions in
  cards.py (links, cards, people), head.py (chrome, <head>), dates.py, threads.py
  (replies, introductions) and pages/, with lookups.py computing the indexes once
- pages/: plan_pages(site) -> every HTML page as a PageSpec(path, template, context),
  one module per page kind (stories, tags, members, events, site_pages); page
  functions read the site through pages/reads.py, which records what they read
- renderer.py: Renderer(theme).render(spec) -> bytes

Tag slugs live below, in commsite.slugs (commsite.urls uses them too).
"""
