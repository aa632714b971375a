"""What a build produces, and from what: one `Output` per file of the output tree.

Three kinds of output:

* pages, rendered later from a PageSpec; fingerprint = the code, the template
  files' bytes and the page's context (see fingerprint.py);
* generated documents (feeds, sitemap, federation documents, deploy configs,
  generated CSS), made here as bytes; fingerprint = their bytes; those that
  record what they read (document_reads.py) are made only when a read answers
  differently;
* copies (the theme's assets and the site's static/ folder); fingerprint =
  their bytes.

Later kinds win over earlier ones for the same path, in this order: generated
assets, theme assets, static/, documents, pages. A site file that hides a
generated one gets a warning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from commsite.activitypub.documents import federation_plan
from commsite.build.cache import BuildCache, RecordEntry
from commsite.build.document_queries import BUILD_QUERIES
from commsite.build.document_reads import Documents
from commsite.build.fingerprint import code_fingerprint, digest_bytes
from commsite.build.memo import BuildMemo
from commsite.build.objects import ObjectStore, federation_documents
from commsite.build.page_outputs import Output, page_outputs, read_tree
from commsite.build.pagekeys import KeyDigests
from commsite.build.parallel import can_fork
from commsite.build.read_index import ReadCheck
from commsite.build.site_documents import site_documents, sitemap_of
from commsite.content.model import Site
from commsite.content.safe_files import Fence, read_input, site_fence
from commsite.errors import Diagnostic, Severity
from commsite.render.pages import PageMemo, plan_pages
from commsite.render.renderer import Renderer
from commsite.render.theme import Theme, generated_assets, theme_assets
from commsite.site_files.deploy import deploy_configs

__all__ = ["Output", "make_plan"]

STATIC_DIR = "static"


def make_plan(
    site: Site,
    theme: Theme,
    renderer: Renderer,
    root: Path,
    hashes: Mapping[str, bytes],
    *,
    template_deps: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    objects: ObjectStore | None = None,
    cache: BuildCache | None = None,
    record: Mapping[str, RecordEntry] | None = None,
    memo: BuildMemo | None = None,
    parse_keys: Mapping[str, bytes] | None = None,
    fence: Fence | None = None,
    variants: Mapping[str, tuple[bytes, str]] | None = None,
    jobs: int = 1,
    reads: ReadCheck | None = None,
) -> tuple[dict[str, Output], list[Diagnostic]]:
    """Every output of the site, by path.

    `hashes`: sha256 of input files (see inputs.py), used for copies;
    `template_deps`: what each template uses, kept between builds;
    `objects`, `cache`: federation objects' JSON kept between builds; `record`:
    the last build's, whose reads vouch for pages and documents; `memo`: a
    long-lived builder's pages and fingerprints of the last build; `parse_keys`:
    content file -> parse cache key, to digest page keys (see pagekeys.py);
    `fence`: where links in static/ and the theme may lead (content.safe_files);
    `variants`: images' variants (build/images.py), output path -> (bytes, the
    image they are made from); their paths hold the image's content hash, so a
    path stands for its bytes; `jobs`: the render step's worker processes;
    `reads`: the check of the last build's read index (build/read_index.py)."""
    if fence is None:
        fence = site_fence(root, site.config.sidecar.data_dir)
    problems: list[Diagnostic] = []
    outputs: dict[str, Output] = {}
    origin: dict[str, str] = {}

    def add_data(
        path: str, data: bytes, source: str, sources: tuple[str, ...], inputs: bytes = b""
    ) -> None:
        previous = origin.get(path)
        if previous is not None and previous != source:
            problems.append(_hidden(path, previous, source))
        fingerprint = digest_bytes(b"data", data)
        outputs[path] = Output(path, fingerprint, sources, data=data, inputs=inputs)
        origin[path] = source

    for path, data in generated_assets().items():
        add_data(path, data, "generated", ())

    def add_copy(path: str, file: Path, source: str) -> None:
        try:
            key = file.relative_to(root).as_posix()
        except ValueError:
            key = str(file)
        digest = hashes.get(key)
        if digest is None:
            digest = hashlib.sha256(read_input(file)).digest()
        outputs[path] = Output(path, digest_bytes(b"copy", digest), (key,), copy=file)
        origin[path] = source

    for path, file in theme_assets(theme, fence).items():
        add_copy(path, file, "theme")
    for path, file in read_tree(fence, root / STATIC_DIR).items():
        rel = f"{STATIC_DIR}/{path}"
        if origin.get(path) == "generated":
            problems.append(_hidden(path, "generated", rel))
        add_copy(path, file, rel)
    for path, (data, source) in (variants or {}).items():
        if path in origin:
            problems.append(_hidden(path, origin[path], f"{STATIC_DIR}/{source}"))
        sources = (f"{STATIC_DIR}/{source}",)
        outputs[path] = Output(path, digest_bytes(b"image", path.encode()), sources, data=data)
        origin[path] = "image"

    # Pages first: planning them finds the answers to the site's queries, which
    # the generated documents read too (document_reads.py). The documents whose
    # reads answer as they did are kept, or vouched for by the record; the others
    # (feeds, calendars, federation objects) are made in a forked worker, when they
    # weigh enough, while this process fingerprints the pages; then the outbox
    # pages (which embed the objects) and the sitemap (which lists the pages). A
    # cold build makes them all later, where it renders the pages.
    keys = KeyDigests(parse_keys or {}, code_fingerprint(), memo.keys if memo else None)
    if memo is not None:
        memo.keys = keys
    pages_memo = memo.pages if memo is not None else PageMemo(BUILD_QUERIES)
    specs = plan_pages(site, event_calendars=True, memo=pages_memo)
    values = pages_memo.values
    assert values is not None  # (plan_pages began a plan)
    if reads is not None:
        reads.begin(lambda read: keys.read_digest(read, values.value(read)))
    store = objects if objects is not None else ObjectStore()
    store.start(cache)
    # A cold build (no record; forked workers) makes the documents where it
    # renders the pages: the workers share them (document_reads.Documents).
    recorded = Documents(
        values,
        keys,
        site.config,
        memo.documents if memo else None,
        record,
        store,
        later=not record and jobs > 1 and can_fork(),
        index=pages_memo if memo is not None else None,
        check=reads,
    )
    federation = federation_plan(site, memo.polls if memo is not None else None)
    object_documents, outbox_pages = federation_documents(
        federation, memo.objects if memo is not None else None
    )
    recorded.start([*site_documents(site), *object_documents])
    pages = page_outputs(
        specs,
        site,
        renderer,
        theme,
        template_deps,
        progress,
        memo,
        pages_memo,
        keys,
        record,
        fence,
        reads,
    )
    documents = {**federation.documents, **deploy_configs(site)}
    problems.extend(federation.diagnostics)
    recorded.outputs()
    recorded.start([*outbox_pages, sitemap_of([s.path for s in specs])])
    found = recorded.outputs()
    recorded.finish()
    store.finish(recorded.fingerprints(path for path, _ in federation.objects))
    for path in sorted(documents):
        add_data(path, documents[path], "document", ("*",))
    # The thousands of object documents, outbox pages and pages: checked for
    # clashes all at once (a rebuild of 10,000 stories did it file by file).
    for path in found.keys() & origin.keys():
        if origin[path] != "document":
            problems.append(_hidden(path, origin[path], "document"))
    outputs.update(found)
    origin.update(dict.fromkeys(found, "document"))
    by_path = {page.path: page for page in pages}
    for path in by_path.keys() & origin.keys():
        problems.append(_hidden(path, origin[path], "page"))
    outputs.update(by_path)
    return outputs, problems


def _hidden(path: str, first: str, second: str) -> Diagnostic:
    what = {
        "generated": "a generated asset",
        "theme": "a theme asset",
        "page": "a page",
        "document": "a generated document",
        "image": "an image variant",
    }
    static = next((s for s in (second, first) if s.startswith(STATIC_DIR + "/")), None)
    winner = what.get(second, second)
    return Diagnostic(
        static or path,
        None,
        f"{winner} and {what.get(first, first)} both produce '{path}'; {winner} wins",
        Severity.WARNING,
        f"rename {static}" if static else ("rename one of them" if second != "theme" else None),
    )
