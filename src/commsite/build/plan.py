"""What a build produces, and from what: one `Output` per file of the output tree.

Three kinds of output:

* pages, rendered later from a PageSpec; fingerprint = the code, the template
  files' bytes and the page's context (see fingerprint.py);
* generated documents (feeds, sitemap, federation documents, deploy configs,
  generated CSS), made here as bytes; fingerprint = their bytes;
* copies (the theme's assets and the site's static/ folder); fingerprint =
  their bytes.

Later kinds win over earlier ones for the same path, in this order: generated
assets, theme assets, static/, documents, pages. A site file that hides a
generated one gets a warning.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from commsite import urls
from commsite.build.fingerprint import Fingerprinter, code_fingerprint, digest_bytes, owners_of
from commsite.content.model import Site
from commsite.errors import Diagnostic, Severity
from commsite.federation.documents import federation_documents
from commsite.feeds.atom import atom_feed
from commsite.feeds.calendar import events_calendar
from commsite.feeds.jsonfeed import json_feed
from commsite.feeds.sitemap import robots, sitemap
from commsite.render.pages import PageSpec, plan_pages
from commsite.render.renderer import Renderer
from commsite.render.theme import Theme, generated_assets, theme_assets

__all__ = ["Output", "Plan", "make_plan"]

STATIC_DIR = "static"


@dataclass(frozen=True, slots=True)
class Output:
    path: str  # the file, relative to the output directory
    fingerprint: bytes
    sources: tuple[str, ...]  # site files it was made from ("*": the whole site)
    page: PageSpec | None = None  # rendered later
    data: bytes | None = None  # or its bytes, made already


@dataclass(frozen=True, slots=True)
class Plan:
    outputs: dict[str, Output]  # sorted by path
    pages: int


def _read_tree(directory: Path) -> dict[str, Path]:
    """Relative POSIX path -> file, for every file under `directory`, sorted."""
    found: dict[str, Path] = {}
    if not directory.is_dir():
        return found
    base = len(str(directory)) + 1
    for dirpath, dirnames, filenames in os.walk(directory, followlinks=True):
        dirnames.sort()
        prefix = dirpath[base:].replace(os.sep, "/")
        for name in sorted(filenames):
            found[f"{prefix}/{name}" if prefix else name] = Path(dirpath, name)
    return dict(sorted(found.items()))


class _TemplateDigests:
    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer
        self._files: dict[Path, bytes] = {}
        self._templates: dict[str, tuple[bytes, tuple[str, ...]]] = {}

    def get(self, name: str) -> tuple[bytes, tuple[str, ...]]:
        found = self._templates.get(name)
        if found is None:
            parts: list[bytes] = []
            names: list[str] = []
            for path in self._renderer.template_files(name):
                digest = self._files.get(path)
                if digest is None:
                    digest = digest_bytes(path.read_bytes())
                    self._files[path] = digest
                parts += [str(path).encode(), digest]
                names.append(str(path))
            found = (digest_bytes(*parts), tuple(names))
            self._templates[name] = found
        return found


def make_plan(
    site: Site,
    theme: Theme,
    renderer: Renderer,
    root: Path,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[Plan, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    outputs: dict[str, Output] = {}
    origin: dict[str, str] = {}

    def add_data(path: str, data: bytes, source: str, sources: tuple[str, ...]) -> None:
        previous = origin.get(path)
        if previous is not None and previous != source:
            problems.append(_hidden(path, previous, source))
        outputs[path] = Output(path, digest_bytes(data), sources, data=data)
        origin[path] = source

    for path, data in generated_assets().items():
        add_data(path, data, "generated", ())
    for path, file in theme_assets(theme).items():
        outputs[path] = _copy(path, file, ())
        origin[path] = "theme"
    for path, file in _read_tree(root / STATIC_DIR).items():
        rel = f"{STATIC_DIR}/{path}"
        if origin.get(path) == "generated":
            problems.append(_hidden(path, "generated", rel))
        outputs[path] = _copy(path, file, (rel,))
        origin[path] = rel

    specs = plan_pages(site)
    documents: dict[str, bytes] = {
        urls.FEED_ATOM: atom_feed(site),
        urls.FEED_JSON: json_feed(site),
        urls.EVENTS_ICS: events_calendar(site),
        urls.SITEMAP: sitemap(site, [s.path for s in specs]),
        urls.ROBOTS: robots(site),
    }
    federation, more = federation_documents(site)
    problems.extend(more)
    documents.update(federation)
    try:  # TEMPORARY until commsite.federation.deploy lands
        from commsite.federation.deploy import deploy_configs
    except ImportError:
        pass
    else:
        documents.update(deploy_configs(site))
    for path, data in documents.items():
        add_data(path, data, "document", ("*",))

    fingerprinter = Fingerprinter(owners_of(site))
    templates = _TemplateDigests(renderer)
    code = code_fingerprint()
    total = len(specs)
    for n, spec in enumerate(specs, 1):
        path = urls.output_file(spec.path)
        template_digest, _ = templates.get(spec.template)
        context_digest, sources = fingerprinter.digest(spec.context)
        fingerprint = digest_bytes(b"page", code, path.encode(), template_digest, context_digest)
        previous = origin.get(path)
        if previous is not None and previous != "page":
            problems.append(_hidden(path, previous, "page"))
        outputs[path] = Output(path, fingerprint, tuple(sorted(sources)), page=spec)
        origin[path] = "page"
        if progress and n % 1000 == 0:
            progress("planning", n, total)
    return Plan(dict(sorted(outputs.items())), total), problems


def _copy(path: str, file: Path, sources: tuple[str, ...]) -> Output:
    data = file.read_bytes()
    return Output(path, digest_bytes(data), sources, data=data)


def _hidden(path: str, first: str, second: str) -> Diagnostic:
    what = {
        "generated": "a generated asset",
        "theme": "a theme asset",
        "page": "a page",
        "document": "a generated document",
    }
    return Diagnostic(
        second if second.startswith(STATIC_DIR + "/") else path,
        None,
        f"{what.get(second, second)} and {what.get(first, first)} both produce '{path}'; "
        f"the {what.get(second, second)} wins",
        Severity.WARNING,
        "rename one of them" if second != "theme" else None,
    )
