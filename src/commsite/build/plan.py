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

import hashlib
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from commsite.activitypub.documents import (
    FederationPlan,
    federation_plan,
    outbox_page_json,
)
from commsite.build.cache import BuildCache, RecordEntry
from commsite.build.document_reads import Documents
from commsite.build.fingerprint import code_fingerprint, digest_bytes
from commsite.build.memo import BuildMemo
from commsite.build.objects import ObjectStore, made_packed
from commsite.build.page_outputs import Output, page_outputs, read_tree
from commsite.build.pagekeys import KeyDigests
from commsite.build.parallel import submit
from commsite.build.site_documents import site_documents, sitemap_of
from commsite.content.model import Event, Site, Story
from commsite.content.safe_files import Fence, read_input, site_fence
from commsite.errors import Diagnostic, Severity
from commsite.render.pages import PageMemo, plan_pages
from commsite.render.renderer import Renderer
from commsite.render.theme import Theme, generated_assets, theme_assets
from commsite.site_files.deploy import deploy_configs

__all__ = ["Output", "make_plan"]

STATIC_DIR = "static"
# From this many missing federation objects on, they are made in a worker process
# (forking costs about 20 ms; the federation objects about 1 ms a story).
PARALLEL_DOCUMENTS_MIN = 200


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
) -> tuple[dict[str, Output], list[Diagnostic]]:
    """Every output of the site, by path.

    `hashes`: sha256 of input files (see inputs.py), used for copies;
    `template_deps`: what each template uses, kept between builds;
    `objects`, `cache`: federation objects' JSON kept between builds; `record`:
    the last build's, to make only the federation objects it lacks; `memo`: a
    long-lived builder's pages and fingerprints of the last build; `parse_keys`:
    content file -> parse cache key, to digest page keys (see pagekeys.py);
    `fence`: where links in static/ and the theme may lead (content.safe_files);
    `variants`: images' variants (build/images.py), output path -> (bytes, the
    image they are made from); their paths hold the image's content hash, so a
    path stands for its bytes."""
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

    # The feeds and calendars, the federation objects the output lacks, and the
    # pages' contexts are independent: when there are many, make the first two in
    # forked workers while this process plans and fingerprints the pages.
    # Federation object documents and outbox pages are fingerprinted by their
    # items' keys and made only when their fingerprint changed (see objects.py).
    keys = KeyDigests(parse_keys or {}, code_fingerprint(), memo.keys if memo else None)
    if memo is not None:
        memo.keys = keys
    store = objects if objects is not None else ObjectStore()
    store.start(site, cache, parse_keys)
    federation = federation_plan(site)
    last_documents = memo.objects if memo is not None else {}
    lazy = _federation_outputs(site, federation, store, memo.federation if memo else None)
    wanted: list[Story | Event] = []
    for path, (fingerprint, about, _) in lazy.items():
        entry = record.get(path) if record is not None else None
        if entry is None or entry.fingerprint != fingerprint:
            wanted.extend(about)
    missing = store.missing(dict.fromkeys(wanted))
    made = submit(made_packed, site, missing) if len(missing) >= PARALLEL_DOCUMENTS_MIN else None
    pages_memo = memo.pages if memo is not None else PageMemo()
    specs = plan_pages(site, event_calendars=True, memo=pages_memo)
    # The feeds and calendars record what they read (document_reads.py): those
    # whose reads answer as they did are kept or vouched for by the record, the
    # others made (in a forked worker when they weigh enough) meanwhile.
    assert pages_memo.values is not None  # (plan_pages began a plan)
    recorded = Documents(
        pages_memo.values, keys, site.config, memo.documents if memo else None, record
    )
    recorded.start(site_documents(site))
    # Fingerprint the pages while the workers make the documents.
    pages = page_outputs(
        specs, site, renderer, theme, template_deps, progress, memo, pages_memo, keys, record, fence
    )
    documents: dict[str, bytes] = {}
    new = made.result() if made is not None else made_packed(site, missing)
    for missed, made_json in zip(missing, new, strict=True):
        store.add(missed, made_json)
    store.finish()
    documents.update(federation.documents)
    documents.update(deploy_configs(site))
    problems.extend(federation.diagnostics)
    # The sitemap reads each story's slug, visibility and lastmod; the pages' paths
    # are its option.
    recorded.start([sitemap_of([s.path for s in specs])])
    found = recorded.outputs()
    recorded.finish()
    for path in sorted(documents):
        add_data(path, documents[path], "document", ("*",))
    # The thousands of object documents, outbox pages and pages: checked for
    # clashes all at once (a rebuild of 10,000 stories did it file by file).
    for path in (lazy.keys() | found.keys()) & origin.keys():
        if origin[path] != "document":
            problems.append(_hidden(path, origin[path], "document"))
    for path, (fingerprint, _, make) in lazy.items():
        last = last_documents.get(path)
        if isinstance(last, Output) and last.make is make:
            outputs[path] = last  # (its fingerprint came with its make: see _federation_outputs)
        else:
            outputs[path] = Output(path, fingerprint, ("*",), make=make)
    if memo is not None:
        memo.objects = {path: outputs[path] for path, _ in federation.objects}
    outputs.update(found)
    origin.update(dict.fromkeys(lazy, "document"))
    origin.update(dict.fromkeys(found, "document"))
    by_path = {page.path: page for page in pages}
    for path in by_path.keys() & origin.keys():
        problems.append(_hidden(path, origin[path], "page"))
    outputs.update(by_path)
    return outputs, problems


_Lazy = tuple[bytes, tuple[Story | Event, ...], Callable[[], bytes]]


def _federation_outputs(
    site: Site,
    plan: FederationPlan,
    store: ObjectStore,
    made: dict[str, tuple[object, object, _Lazy]] | None = None,
) -> dict[str, _Lazy]:
    """Path -> (fingerprint, the items shown, what makes the bytes) of each object
    document and outbox page. `made`: a long-lived builder's entries of the last
    plan, by path, with what they were made from; an entry made from the same
    item and key (or outbox page items and place) is given again, maker and all,
    so its Output is kept too (10,500 of them at 10,000 stories, made anew on
    every edit, took about 20 ms)."""
    found: dict[str, _Lazy] = {}
    known = made if made is not None else {}
    kept: dict[str, tuple[object, object, _Lazy]] = {}
    key = store.key
    for path, item in plan.objects:
        item_key = key(item)  # (the same bytes object while the item is the same)
        entry = known.get(path)
        if entry is None or entry[0] is not item or entry[1] is not item_key:
            fingerprint = b"object:" + item_key  # the key is a digest already
            lazy = (fingerprint, (item,), partial(_object_document, store, item))
            entry = (item, item_key, lazy)
        kept[path] = entry
        found[path] = entry[2]
    config = store.config_digest
    for page in plan.outbox_pages:
        entry = known.get(page.path)
        # The same items (with the same config, and events with the same RSVP
        # counts) have the same keys: the fingerprint holds.
        answers = tuple(key(item) for item in page.items if type(item) is Event)
        place = (config, page.number, page.pages, answers)
        if entry is None or entry[0] != page.items or entry[1] != place:
            fingerprint = digest_bytes(
                b"outbox",
                config,
                f"{page.path} {page.number} {page.pages}".encode(),
                *(key(item) for item in page.items),
            )
            entry = (
                page.items,
                place,
                (fingerprint, page.items, partial(outbox_page_json, site, page, store.json)),
            )
        kept[page.path] = entry
        found[page.path] = entry[2]
    if made is not None:
        made.clear()
        made.update(kept)
    return found


def _object_document(store: ObjectStore, item: Story | Event) -> bytes:
    return store.json(item).document()


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
