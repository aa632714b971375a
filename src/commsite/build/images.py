"""The images the content uses, and their variants: made once, kept by content hash.

A build collects the images in static/ that the site shows (stories' and
events' `image:`, members' avatars, the community's avatar and header, and
images in Markdown bodies that point into static/), and for each asks this
store for its size and variants (build/image_variants.py). They come from
memory (a long-lived builder), from the build cache's `images` table (by a
digest of the file's bytes and what is made of it: the same photo under two
names is made once), or are made with Pillow. `ImageStore.counts` says which:
the build writes it to last-build.json, where tests read that a second build
made nothing.

The cache holds data only: a JSON head (sizes, media types) and the variants'
bytes, checked field by field on the way out; anything that does not fit is
damage (noted, then a miss, and the image is made again).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from commsite.build.cache import BuildCache
from commsite.build.fingerprint import digest_bytes
from commsite.build.image_variants import VERSION, ImageProblem, Made, Piece, make_variants
from commsite.build.linkcheck import content_pages
from commsite.build.parallel import map_in_processes
from commsite.content.image_refs import image_addresses, static_image
from commsite.content.model import Site
from commsite.content.safe_files import read_input
from commsite.datadir import DataDir
from commsite.errors import Diagnostic, Severity
from commsite.image_table import ImageInfo, ImageTable, Variant, static_key

__all__ = ["RASTER", "ImageStore", "Wanted", "wanted_images", "with_images"]

RASTER = (".jpg", ".jpeg", ".png", ".gif", ".webp")
_ROLES = ("v", "s", "b")  # responsive variant, square (icon), banner (header)


@dataclass(frozen=True, slots=True)
class Wanted:
    source: str  # path under static/
    square: bool = False
    banner: bool = False


def wanted_images(site: Site) -> list[Wanted]:
    """The raster images under static/ that `site` shows, with what each needs."""
    found: dict[str, Wanted] = {}

    def want(path: str | None, square: bool = False, banner: bool = False) -> None:
        if not path:
            return
        key = static_key(path)
        if not key.lower().endswith(RASTER):
            return
        old = found.get(key)
        if old is not None:
            square, banner = square or old.square, banner or old.banner
        found[key] = Wanted(key, square, banner)

    community = site.config.community
    want(community.avatar, square=True)
    want(community.header_image, banner=True)
    for story in site.stories:
        want(story.image)
    for event in site.events:
        want(event.image)
    for member in site.members:
        want(member.avatar)
    for _, page, body in content_pages(site):
        for address in image_addresses(body):
            want(static_image(site.config, page, address))
    return sorted(found.values(), key=lambda w: w.source)


class ImageStore:
    """Sizes and variants of images for one Builder, kept between its builds."""

    def __init__(self) -> None:
        self._known: dict[bytes, Made] = {}  # by cache key, this builder's
        self.made = 0  # made with Pillow by the last `prepare`
        self.reused = 0  # taken from memory or the cache by the last `prepare`

    @property
    def counts(self) -> dict[str, int]:
        return {"made": self.made, "reused": self.reused}

    def prepare(
        self,
        site: Site,
        root: Path,
        wanted: list[Wanted],
        hashes: Mapping[str, bytes],
        cache: BuildCache | None,
        progress: Callable[[str, int, int], None] | None = None,
        jobs: int = 1,
    ) -> tuple[ImageTable, dict[str, bytes], list[Diagnostic]]:
        """The table of `wanted` images, the variants' bytes by output path, and the
        problems (an image that cannot be read is a warning; a decompression bomb
        an error)."""
        self.made = self.reused = 0
        keys: dict[str, bytes] = {}
        for w in wanted:
            sha = hashes.get(f"static/{w.source}")
            if sha is not None:
                keys[w.source] = _key(sha, w)
        missing = {k for k in keys.values() if k not in self._known}
        if cache is not None and missing:
            for key, blob in cache.get_images(missing).items():
                made = _decode(blob)
                if made is None:
                    cache.note_damage("an image's variants that do not read")
                    continue
                self._known[key] = made
        problems: list[Diagnostic] = []
        # Those neither in memory nor in the cache: made across `jobs` processes
        # (each photo is a few WebP encodings: the slowest thing a build does).
        to_make: dict[bytes, Wanted] = {}
        for w in wanted:
            wanted_key = keys.get(w.source)
            if wanted_key is not None and wanted_key not in self._known:
                to_make.setdefault(wanted_key, w)
        jobs_list = [(root / "static" / w.source, w.square, w.banner) for w in to_make.values()]

        def step(done: int, total: int) -> None:
            if progress is not None:
                progress("images", done, total)

        results = map_in_processes(_make, jobs_list, jobs=jobs, progress=step)
        new: dict[bytes, bytes] = {}
        failed: dict[bytes, str] = {}
        for key, result in zip(to_make, results, strict=True):
            if isinstance(result, str):
                failed[key] = result
            else:
                self._known[key] = result
                new[key] = _encode(result)
        self.made = len(new)
        kept: dict[bytes, Made] = {}
        infos: list[ImageInfo] = []
        files: dict[str, bytes] = {}
        for w in wanted:
            found = keys.get(w.source)
            if found is None:
                continue  # (not a file of static/: the content checks say so)
            key = found
            if key in failed:
                problems.append(_problem(w.source, failed[key]))
                continue
            made = self._known[key]
            if key not in new:
                self.reused += 1
            kept[key] = made
            info = _info(w.source, made, key)
            infos.append(info)
            for piece, variant in _pieces(made, info):
                files[variant.path] = piece.data
        self._known = kept
        if cache is not None and new:
            cache.put_images(new, len(kept), lambda: kept.keys())
        return ImageTable(tuple(infos)), files, problems

    def save_all(self, cache: BuildCache) -> None:
        """Store every image this builder knows (into a cache started afresh)."""
        if self._known:
            entries = {key: _encode(made) for key, made in self._known.items()}
            cache.put_images(entries, len(entries), lambda: entries.keys())


def _make(job: tuple[Path, bool, bool]) -> Made | str:
    """One image's variants, or what is wrong with it (in a worker process)."""
    path, square, banner = job
    try:
        return make_variants(read_input(path), square=square, banner=banner)
    except ImageProblem as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"


def with_images(root: Path) -> Callable[[Site], Site]:
    """For `commsite publish`: what gives a loaded site its image table, from the
    build cache (making what it lacks, writing nothing else), so that the
    federated objects name the variants the build wrote."""

    def attach(site: Site) -> Site:
        data = DataDir.for_site(root, site.config.sidecar.data_dir)
        wanted = wanted_images(site)
        hashes: dict[str, bytes] = {}
        for w in wanted:
            with contextlib.suppress(OSError):
                data_bytes = read_input(root / "static" / w.source)
                hashes[f"static/{w.source}"] = hashlib.sha256(data_bytes).digest()
        cache = BuildCache.open(data.build_cache, root / "public")
        try:
            table, _, _ = ImageStore().prepare(site, root, wanted, hashes, cache)
        finally:
            cache.close()
        return replace(site, config=replace(site.config, images=table))

    return attach


def _key(sha: bytes, w: Wanted) -> bytes:
    return digest_bytes(
        b"image", str(VERSION).encode(), sha, b"s" if w.square else b"", b"b" if w.banner else b""
    )


def _problem(source: str, message: str) -> Diagnostic:
    bomb = "decompression bomb" in message
    return Diagnostic(
        f"static/{source}",
        None,
        message if bomb else f"cannot make smaller copies of this image: {message}",
        Severity.ERROR if bomb else Severity.WARNING,
        "replace it with a smaller image (a photo needs at most 4000 pixels a side)"
        if bomb
        else "save it again from an image editor as JPEG, PNG or WebP",
    )


def _name(source: str, piece: Piece, key: bytes) -> str:
    stem, dot, _ = source.rpartition(".")
    return f"{stem if dot else source}.{piece.name}.{key.hex()[:10]}.{piece.extension}"


def _variant(source: str, piece: Piece, key: bytes) -> Variant:
    return Variant(_name(source, piece, key), piece.width, piece.height, piece.media_type)


def _info(source: str, made: Made, key: bytes) -> ImageInfo:
    return ImageInfo(
        source=source,
        width=made.width,
        height=made.height,
        media_type=made.media_type,
        variants=tuple(_variant(source, p, key) for p in made.variants),
        square=_variant(source, made.square, key) if made.square else None,
        banner=_variant(source, made.banner, key) if made.banner else None,
    )


def _pieces(made: Made, info: ImageInfo) -> Iterable[tuple[Piece, Variant]]:
    yield from zip(made.variants, info.variants, strict=True)
    if made.square is not None and info.square is not None:
        yield made.square, info.square
    if made.banner is not None and info.banner is not None:
        yield made.banner, info.banner


# --- the cache entry: a JSON head line, then the pieces' bytes one after another ---


def _encode(made: Made) -> bytes:
    pieces = [("v", p) for p in made.variants]
    pieces += [("s", made.square)] if made.square else []
    pieces += [("b", made.banner)] if made.banner else []
    head = {
        "size": [made.width, made.height],
        "type": made.media_type,
        "animated": made.animated,
        "pieces": [
            [role, p.name, p.width, p.height, p.media_type, p.extension, len(p.data)]
            for role, p in pieces
        ],
    }
    return json.dumps(head).encode() + b"\n" + b"".join(p.data for _, p in pieces)


_TYPES = {"image/webp": "webp", "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}


def _decode(blob: bytes) -> Made | None:
    """The Made `_encode` wrote, or None when `blob` is not one (checked field by field)."""
    head, newline, rest = blob.partition(b"\n")
    try:
        data = json.loads(head)
    except ValueError:
        return None
    if not newline or type(data) is not dict or set(data) != {"size", "type", "animated", "pieces"}:
        return None
    size, kind, animated, rows = data["size"], data["type"], data["animated"], data["pieces"]
    if not (_sizes(size) and kind in _TYPES and type(animated) is bool and type(rows) is list):
        return None
    found: dict[str, list[Piece]] = {role: [] for role in _ROLES}
    at = 0
    for row in rows:
        if type(row) is not list or len(row) != 7:
            return None
        role, name, width, height, media_type, extension, length = row
        if not (
            role in _ROLES
            and type(name) is str
            and _name_ok(name)
            and _sizes([width, height])
            and _TYPES.get(media_type) == extension
            and type(length) is int
            and 0 < length <= len(rest) - at
        ):
            return None
        found[role].append(
            Piece(name, width, height, media_type, extension, rest[at : at + length])
        )
        at += length
    if at != len(rest) or len(found["s"]) > 1 or len(found["b"]) > 1:
        return None
    return Made(
        size[0],
        size[1],
        kind,
        animated,
        tuple(found["v"]),
        found["s"][0] if found["s"] else None,
        found["b"][0] if found["b"] else None,
    )


def _sizes(value: object) -> bool:
    return (
        type(value) is list
        and len(value) == 2
        and all(type(n) is int and 0 < n < 1_000_000 for n in value)
    )


def _name_ok(name: str) -> bool:
    """A piece's name goes into a file name: digits, maybe 'NxN'."""
    return 0 < len(name) <= 16 and all(c.isdigit() or c == "x" for c in name) and name.isascii()
