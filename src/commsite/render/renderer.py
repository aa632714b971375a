"""The Jinja2 environment: PageSpec in, HTML bytes out."""

from __future__ import annotations

from pathlib import Path

import jinja2
import jinja2.meta
import markupsafe

from commsite.errors import Diagnostic, SiteError
from commsite.render.pages import PageSpec
from commsite.render.theme import Theme

__all__ = ["RenderError", "Renderer", "handle_parts"]


def handle_parts(handle: object) -> markupsafe.Markup:
    """A fediverse handle that may wrap only before its second '@':
    <span class="handle__part">@user</span><wbr><span class="handle__part">@host</span>
    (the theme's CSS keeps each part on one line). Anything else, escaped as is."""
    text = str(handle)
    user, at, host = text.removeprefix("@").partition("@")
    if not at or not user or not host:
        return markupsafe.escape(text)
    return markupsafe.Markup(
        '<span class="handle__part">@{}</span><wbr><span class="handle__part">@{}</span>'
    ).format(user, host)


class RenderError(SiteError):
    """A template failed: a syntax error, an undefined variable, a missing template.
    Its diagnostic names the template file (absolute: the build makes it relative
    to the site) or the page."""


class Renderer:
    def __init__(self, theme: Theme) -> None:
        self.theme = theme
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(d) for d in theme.template_dirs]),
            autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # A Renderer lives for one build (the plan digested the template files
            # at its start): no os.stat of each template a page uses, per page.
            auto_reload=False,
        )
        self.env.filters["handle_parts"] = handle_parts
        # template name -> (its file, the templates it names), each parsed once
        self._references: dict[str, tuple[Path, tuple[str, ...]]] = {}

    def __reduce__(self) -> tuple[type[Renderer], tuple[Theme]]:
        # To a worker process that does not share this one's memory (build/parallel.py):
        # the theme, from which it makes its own environment.
        return Renderer, (self.theme,)

    def render(self, spec: PageSpec) -> bytes:
        """The page's HTML. Raises RenderError naming the template file and line."""
        try:
            template = self.env.get_template(spec.template)
            html = template.render(spec.context)
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or exc.name or spec.template
            raise RenderError(Diagnostic(where, exc.lineno, exc.message or str(exc))) from exc
        except jinja2.TemplateNotFound as exc:
            dirs = ", ".join(str(d) for d in self.theme.template_dirs)
            message = f"template {exc.name!r} not found in {dirs}"
            raise RenderError(Diagnostic(spec.path or "/", None, message)) from exc
        except (jinja2.UndefinedError, TypeError, AttributeError) as exc:
            file, line = _template_location(exc) or (spec.template, None)
            message = f"rendering {spec.path or '/'}: {exc}"
            raise RenderError(Diagnostic(file, line, message)) from exc
        return html.encode("utf-8")

    def compile(self, name: str) -> None:
        """Compile the template `name` and those it names into the environment (for
        forked workers to inherit); an error is left for `render` to report."""
        pending, seen = [name], set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            try:
                self.env.get_template(current)
                pending += self._referenced(current)[1]
            except (jinja2.TemplateError, RenderError):
                continue

    def template_files(self, name: str) -> tuple[Path, ...]:
        """The template and every template it extends, includes or imports, recursively."""
        found: dict[str, Path] = {}
        pending = [name]
        while pending:
            current = pending.pop()
            if current not in found:
                found[current], names = self._referenced(current)
                pending += names
        return tuple(sorted(found.values()))

    def _referenced(self, name: str) -> tuple[Path, tuple[str, ...]]:
        """A template's file and the templates it names (a base template is parsed
        once for all the pages that extend it)."""
        known = self._references.get(name)
        if known is None:
            try:
                source, filename, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
            except jinja2.TemplateNotFound as exc:
                message = f"template {name!r} not found"
                raise RenderError(Diagnostic("commsite.yaml", None, message)) from exc
            try:
                ast = self.env.parse(source, name, filename)
            except jinja2.TemplateSyntaxError as exc:
                where = filename or name
                raise RenderError(Diagnostic(where, exc.lineno, exc.message or str(exc))) from exc
            names = tuple(r for r in jinja2.meta.find_referenced_templates(ast) if r is not None)
            known = self._references[name] = (Path(filename) if filename else Path(name), names)
        return known


_TEMPLATE_SUFFIXES = (".html", ".xml", ".txt", ".j2", ".jinja")


def _template_location(exc: BaseException) -> tuple[str, int] | None:
    """The innermost template frame of a rendering error: (file, line)."""
    tb = exc.__traceback__
    where = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(_TEMPLATE_SUFFIXES) and Path(code.co_filename).is_file():
            where = (code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return where
