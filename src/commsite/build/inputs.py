"""Every file a build reads from the site, hashed: the basis of the no-change check.

A build whose inputs (these files, the code, the options) are unchanged since
the last successful build into the same output, and whose "now" has not crossed
a moment at which the site changes by itself (a future story becoming due, an
event becoming past, NodeInfo's activity windows), produces the same output:
it can stop after checking that the output is still on disk as written.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from commsite.build.fingerprint import code_fingerprint, digest_bytes
from commsite.content.safe_files import (
    INPUT_DIRS,
    INPUT_FILES,
    Fence,
    admit,
    list_files,
    open_input,
    site_fence,
)
from commsite.errors import Diagnostic

if TYPE_CHECKING:
    from commsite.content.model import Site
    from commsite.content.parse import ParsedFile

__all__ = [
    "InputScan",
    "NowWindow",
    "instants",
    "now_window",
    "rescan_inputs",
    "scan_inputs",
    "window_at",
]

# Every moment at which the site flips is one the loader computed (an aware
# datetime: bare dates are midnight in the site's time zone, as `_instant` makes
# them for stories left out), and pages compare `now` with those moments only.
# So the no-change window runs up to the moments themselves; the margin only
# covers the float timestamps the record keeps. (It was a day: a site with an
# event within a day of the build never had a no-change build.)
MARGIN = timedelta(seconds=1)
# NodeInfo counts activity within these many days of the latest post.
ACTIVITY_WINDOWS = (timedelta(days=30), timedelta(days=180))


# A file's (size, mtime_ns, inode) and the sha256 of its bytes, from an earlier scan.
Stat = tuple[int, int, int, bytes]
# A file modified this recently (ns) may change again within the same mtime tick:
# hash it again whatever its stat says (git's "racy clean" problem).
RACY_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class InputScan:
    files: dict[str, bytes]  # path (relative to the root, or absolute outside it) -> sha256
    digest: bytes  # of the files, the listing of content/, the code, the options
    extra: tuple[Path, ...] = ()  # folders outside the input folders that were scanned too
    stats: dict[str, Stat] | None = None  # what the next scan may reuse
    # A rescan_inputs: the files of the scan it started from, and the keys it hashed again.
    base: dict[str, bytes] | None = None
    rehashed: frozenset[str] = frozenset()
    # Links the fence refused, FIFOs and devices skipped (content/safe_files.py):
    # the build reports them, and reads only `files`.
    problems: tuple[Diagnostic, ...] = ()
    # A digest of the names in every folder under content/ (empty folders and
    # files that cannot be read are not in `files`, but the loader warns of them).
    listing: bytes = b""


def _hash_file(path: str) -> bytes | None:
    try:
        with open_input(path) as f:
            return hashlib.file_digest(f, "sha256").digest()
    except OSError:
        return None


class _Hasher:
    """sha256 of files, reusing an earlier scan's hash when a file's size, mtime and
    inode are unchanged and it was not modified in the last moments (as git's
    index does). Only change detection uses file metadata: outputs never do."""

    def __init__(self, known: Mapping[str, Stat] | None) -> None:
        self.known = known or {}
        self.stats: dict[str, Stat] = {}
        self.racy_after = time.time_ns() - RACY_NS

    def hash(self, key: str, path: str) -> bytes | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        old = self.known.get(key)
        mtime_ns = st.st_mtime_ns
        if (
            old is not None
            and old[1] == mtime_ns
            and old[0] == st.st_size
            and old[2] == st.st_ino
            and mtime_ns < self.racy_after
        ):
            self.stats[key] = old  # (the same tuple: 11,500 of them on a big site)
            return old[3]
        digest = _hash_file(path)
        if digest is not None:
            self.stats[key] = (st.st_size, mtime_ns, st.st_ino, digest)
        return digest


def scan_inputs(
    root: Path,
    options: object,
    extra_dirs: Iterable[Path] = (),
    known: Mapping[str, Stat] | None = None,
    fence: Fence | None = None,
) -> InputScan:
    """Hash every input file; `known`: the stats of an earlier scan, to reuse;
    `fence`: where links may lead (by default the site's with its default
    data directory and output folder)."""
    extra = tuple(extra_dirs)
    fence = fence if fence is not None else site_fence(root)
    hasher = _Hasher(known)
    files: dict[str, bytes] = {}
    problems: list[Diagnostic] = []
    for name in INPUT_FILES:
        ok, more = admit(fence, root / name, name)
        problems += more
        digest = hasher.hash(name, str(root / name)) if ok else None
        if digest is not None:
            files[name] = digest
    walks = [(fence, root / name, f"{name}/") for name in INPUT_DIRS]
    walks += [(fence.around(d), d, _prefix(root, d)) for d in extra]
    content: list[str] = []  # (the loader warns of stray folders and files in content/)
    for walk_fence, directory, prefix in walks:
        listing = list_files(walk_fence, directory, prefix)
        problems += listing.problems
        if prefix == "content/":
            content = listing.folders
        for key, path in listing.files:
            digest = hasher.hash(key, path)
            if digest is not None:
                files[key] = digest
    names = digest_bytes("\n".join(content).encode("utf-8", "surrogateescape"))
    found = tuple(sorted(set(problems), key=Diagnostic.sort_key))
    digest = _digest(options, files, names, found)
    return InputScan(files, digest, extra, hasher.stats, problems=found, listing=names)


def _prefix(root: Path, directory: Path) -> str:
    """What the keys of a folder's files start with: its path relative to the site
    when it is in the site (as rescan_inputs makes keys of a watcher's paths),
    else its absolute path."""
    try:
        return f"{directory.relative_to(root).as_posix()}/"
    except ValueError:
        return f"{directory}/"


def rescan_inputs(
    previous: InputScan, root: Path, options: object, changed: Iterable[Path]
) -> InputScan | None:
    """`previous` with the files in `changed` hashed again, trusting that they
    are all that changed (a file watcher's report, which the caller checks
    later with a full scan_inputs). Only edits qualify: None, for a full scan,
    when a path is not a file `previous` has (a file added, removed or renamed,
    a folder, anything outside the site's input folders)."""
    files = dict(previous.files)  # the same keys in the same order: the same digest
    rehashed: set[str] = set()
    stats = dict(previous.stats or {})
    hasher = _Hasher(None)
    base = str(root) + os.sep
    for path in changed:
        name = str(path)
        if not name.startswith(base):
            return None
        key = name[len(base) :].replace(os.sep, "/")
        try:  # an edit of a plain file, not a link (the fence decides those) nor a FIFO
            if key not in files or not stat.S_ISREG(os.lstat(name).st_mode):
                return None
        except OSError:
            return None
        digest = hasher.hash(key, name)
        if digest is None:
            return None
        files[key] = digest
        stats[key] = hasher.stats[key]
        rehashed.add(key)
    # (Edits leave the listing of content/ and the refusals as they were.)
    digest = _digest(options, files, previous.listing, previous.problems)
    return InputScan(
        files,
        digest,
        previous.extra,
        stats,
        previous.files,
        frozenset(rehashed),
        previous.problems,
        previous.listing,
    )


def _digest(
    options: object,
    files: Mapping[str, bytes],
    listing: bytes,
    problems: tuple[Diagnostic, ...] = (),
) -> bytes:
    """Of the files (in scan order), the listing of content/, the code, the options,
    and what the scan refused (a link refused today changes no file, but must
    not let the next build take the no-change shortcut)."""
    h = hashlib.blake2b(digest_size=20)
    h.update(code_fingerprint())
    h.update(repr(options).encode())
    h.update(listing)
    h.update(b"".join(key.encode() + b"\0" + digest for key, digest in files.items()))
    h.update("\n".join(d.format() for d in problems).encode("utf-8", "surrogateescape"))
    return h.digest()


@dataclass(frozen=True, slots=True)
class NowWindow:
    """A build at any time strictly between `after` and `before` gives the same site."""

    after: float  # POSIX timestamps
    before: float

    def contains(self, moment: datetime) -> bool:
        return self.after < moment.timestamp() < self.before


def _instant(value: object, tz: tzinfo) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    return None


def now_window(site: Site, parsed: Iterable[ParsedFile]) -> NowWindow:
    """The time around `site.now` during which nothing in the site flips by itself."""
    return window_at(instants(site, parsed), site.now)


def instants(site: Site, parsed: Iterable[ParsedFile]) -> tuple[datetime, ...]:
    """The moments at which the site may change by itself, sorted: stories' dates
    (future ones included), events' starts and ends, replies' publication."""
    tz = site.config.tz
    moments: list[datetime] = []
    shown = {story.source for story in site.stories}
    for p in parsed:  # stories left out as future ones are not in the Site
        if p.kind == "story" and p.path not in shown:
            for key in ("date", "updated"):
                moment = _instant(p.meta.get(key), tz)
                if moment is not None:
                    moments.append(moment)
    for story in site.stories:
        moments.append(story.date)
        if story.updated is not None:
            moments.append(story.updated)
    for event in site.events:
        moments += [event.start, event.finishes]
    for reply in site.interactions.replies:
        moments.append(reply.published)
    return tuple(sorted(moments))


def window_at(moments: tuple[datetime, ...], now: datetime) -> NowWindow:
    """The NowWindow around `now`, given `instants`. NodeInfo's activity windows
    count too: NodeInfo is active while its newest published post is within a
    window of `now`, and that post need not be the latest moment (an event's end,
    a reply or a draft may come after it), so the window after every moment is
    a moment at which the site may flip."""
    cut = bisect.bisect_right(moments, now)  # moments[:cut] <= now < moments[cut:]
    after = moments[cut - 1] if cut else datetime.min.replace(tzinfo=UTC)
    before = moments[cut] if cut < len(moments) else datetime.max.replace(tzinfo=UTC)
    for window in ACTIVITY_WINDOWS:
        cut = bisect.bisect_right(moments, now - window)  # moments[:cut] + window <= now
        if cut:
            after = max(after, moments[cut - 1] + window)
        if cut < len(moments):
            before = min(before, moments[cut] + window)
    lo = (after + MARGIN).timestamp() if after.year > 1 else float("-inf")
    hi = (before - MARGIN).timestamp() if before.year < 9999 else float("inf")
    return NowWindow(lo, hi)
