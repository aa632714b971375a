"""The images the content uses, and their variants: made once, kept by content hash.

A build collects the images in static/ that the site shows
(images.wanted_images), and for each asks this store for its size and
variants (images/variants.py). They come from
memory (a long-lived builder), from the build cache's `images` table (by a
digest of the file's bytes and what is made of it: the same photo under two
names is made once), or are made with Pillow. `ImageStore.counts` says which:
the build writes it to last-build.json, where tests read that a second build
made nothing.

The cache holds data only (images/entry.py: a JSON head and the variants'
bytes, checked field by field on the way out); anything that does not fit is
damage (noted, then a miss, and the image is made again).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from commsite.build.cache import BuildCache
from commsite.build.fingerprint import digest_bytes
from commsite.build.parallel import map_in_processes
from commsite.content.model import Site
from commsite.content.safe_files import read_input
from commsite.datadir import DataDir
from commsite.errors import Diagnostic
from commsite.image_table import ImageInfo, ImageTable
from commsite.images.entry import decode_made, encode_made
from commsite.images.info import image_files, image_info, image_problem
from commsite.images.variants import VERSION, ImageProblem, Made, make_variants
from commsite.images.wanted import Wanted, wanted_images

__all__ = ["ImageStore", "with_images"]


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
                made = decode_made(blob)
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
                new[key] = encode_made(result)
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
                problems.append(image_problem(w.source, failed[key]))
                continue
            made = self._known[key]
            if key not in new:
                self.reused += 1
            kept[key] = made
            info = image_info(w.source, made, key)
            infos.append(info)
            files.update(image_files(made, info))
        self._known = kept
        if cache is not None and new:
            cache.put_images(new, len(kept), lambda: kept.keys())
        return ImageTable(tuple(infos)), files, problems

    def save_all(self, cache: BuildCache) -> None:
        """Store every image this builder knows (into a cache started afresh)."""
        if self._known:
            entries = {key: encode_made(made) for key, made in self._known.items()}
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
