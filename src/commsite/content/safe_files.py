"""Which files in a site's input folders a build may read, and reading them.

A site arrives by pull request, so its tree is input like any other: a
symbolic link `static/key.txt -> ../.commsite/private-key.pem` would publish
the community's private key, `static/env.txt -> /proc/self/environ` the
build's environment, and a FIFO named `x.md` would stop the build for ever.
Every walk of the input folders (the input scan, the content files, static/,
the theme's templates and assets, interactions/) goes through `list_files`,
and every read through `read_input`. The policy:

- A symbolic link (to a file or a folder) is followed only when its target,
  fully resolved, lies inside the site and outside the data directory
  (.commsite/), the output folder (public/) and .git/. Any other link is an
  error, and so is a link whose target does not exist. A folder link that
  leads back to a folder it is in (a loop) is an error too.
- FIFOs, sockets and devices are skipped with a warning, never opened;
  `read_input` opens without waiting (O_NONBLOCK) and reads only what is, once
  open, a regular file.
- A folder outside the site that the organiser named in commsite.yaml (a theme
  given as a path) is read: it is its own fence, so links inside it must stay
  inside it.

This guards against what a tree can hold, not against someone changing the
files while a build runs (who could as well edit the files themselves).
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from io import BufferedReader
from pathlib import Path

from commsite.errors import Diagnostic, Severity

__all__ = [
    "DATA_DIR",
    "INPUT_DIRS",
    "INPUT_FILES",
    "Fence",
    "Listing",
    "NotAFile",
    "admit",
    "check_inputs",
    "list_files",
    "open_input",
    "read_input",
    "site_fence",
]

INPUT_FILES = ("commsite.yaml",)
INPUT_DIRS = ("content", "static", "theme", "interactions", "federation")
DATA_DIR = ".commsite"

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


class NotAFile(OSError):
    """Opened something that is not a regular file (a FIFO, a device): not read."""


@dataclass(frozen=True, slots=True)
class Fence:
    """Where links in a folder may lead: inside `root`, outside every `closed` folder."""

    root: str  # resolved
    closed: tuple[tuple[str, str], ...] = ()  # (resolved folder, what to call it)
    name: str = ""  # what to call `root` in messages ("the site"), else its path
    given: str = ""  # `root` as the caller wrote it (absolute), when not resolved

    def refusal(self, real: str) -> str | None:
        """Why a link may not lead to the resolved path `real`, or None when it may."""
        for folder, name in self.closed:
            if _within(real, folder):
                return f"into {name}"
        if not _within(real, self.root):
            return f"outside {self.name or self.root}"
        return None

    def is_closed(self, real: str) -> bool:
        return any(_within(real, folder) for folder, _ in self.closed)

    def around(self, directory: Path) -> Fence:
        """The fence for walking `directory`: this one when it is inside the site,
        else the folder itself (a theme kept elsewhere, commsite's own themes)."""
        real = os.path.realpath(directory)
        written = os.path.abspath(directory)
        if _within(real, self.root) or _within(written, self.given or self.root):
            return self  # (a folder of the site behind a link out: the walk refuses it)
        return Fence(real)


def site_fence(root: Path, data_dir: str | Path = DATA_DIR, output: Path | None = None) -> Fence:
    """The fence of the site at `root`: `data_dir` as commsite.yaml names it
    (relative to the site, or absolute), `output` the build's output folder."""
    base = os.path.realpath(root)
    closed = [
        (os.path.realpath(os.path.join(base, data_dir)), "the data directory"),
        (os.path.join(base, DATA_DIR), "the data directory"),
        (os.path.realpath(output if output is not None else root / "public"), "the output folder"),
        (os.path.join(base, ".git"), ".git/"),
    ]
    # (An output folder that holds the whole site is the build's to refuse, not a fence.)
    kept = tuple(c for c in dict.fromkeys(closed) if not _within(base, c[0]))
    return Fence(base, kept, "the site", os.path.abspath(root))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@dataclass(slots=True)
class Listing:
    """The regular files found, (key, path to read), sorted by key; and what was refused."""

    files: list[tuple[str, str]] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    # Each folder walked, as its key prefix and the names in it (NUL-separated):
    # the shape of the tree, empty folders included, for the input scan's digest.
    folders: list[str] = field(default_factory=list)


def list_files(fence: Fence, directory: Path, prefix: str) -> Listing:
    """Every regular file under `directory` the fence lets a build read, keyed
    `prefix` + its path under `directory` (POSIX), sorted. Links that may be
    followed are (to files and folders alike); the rest is in `problems`,
    with paths as the keys."""
    listing = Listing()
    base = str(directory)
    try:
        st = os.lstat(base)
    except OSError:
        return listing
    real = os.path.realpath(base)
    if stat.S_ISLNK(st.st_mode):
        try:
            followed = _follow(fence, base, prefix.rstrip("/"), listing.problems)
        except OSError:
            return listing
        if followed is None:
            return listing
        real, st = followed
    if not stat.S_ISDIR(st.st_mode) or fence.is_closed(real):
        return listing
    why = fence.refusal(real)  # a folder inside one that links out (theme/static)
    if why is not None:
        listing.problems.append(_refused(prefix.rstrip("/"), why, real, "folder"))
        return listing
    _walk(fence, base, prefix, (real,), listing)
    listing.files.sort()
    return listing


def _walk(fence: Fence, path: str, prefix: str, chain: tuple[str, ...], out: Listing) -> None:
    """`chain`: the resolved folders from the walk's start down to `path`."""
    try:
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return
    out.folders.append("\0".join((prefix, *(e.name for e in entries))))
    for entry in entries:
        key = prefix + entry.name
        try:
            if entry.is_symlink():
                followed = _follow(fence, entry.path, key, out.problems)
                if followed is None:
                    continue
                real, st = followed
                if stat.S_ISDIR(st.st_mode):
                    if real in chain:
                        out.problems.append(_loop(key, real))
                        continue
                    _walk(fence, entry.path, key + "/", (*chain, real), out)
                else:
                    out.files.append((key, entry.path))
            elif entry.is_dir(follow_symlinks=False):
                real = os.path.join(chain[-1], entry.name)
                if not fence.is_closed(real):
                    _walk(fence, entry.path, key + "/", (*chain, real), out)
            elif entry.is_file(follow_symlinks=False):
                out.files.append((key, entry.path))
            else:
                out.problems.append(_special(key, entry.stat(follow_symlinks=False).st_mode))
        except OSError:  # gone while we looked: the next scan sees what is there
            continue


def _follow(
    fence: Fence, path: str, key: str, problems: list[Diagnostic]
) -> tuple[str, os.stat_result] | None:
    """The resolved target of the link at `path` and its stat, when the fence
    lets it be read (a file or a folder); else None, and why in `problems`."""
    target = os.readlink(path)
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            problems.append(
                Diagnostic(
                    key,
                    None,
                    f"this link leads round in a loop of links (to {target})",
                    hint="remove the link, or point it at a real file",
                )
            )
        else:
            problems.append(
                Diagnostic(
                    key,
                    None,
                    f"this link leads nowhere (to {target}, which does not exist)",
                    hint="remove the link, or copy the file it meant into the site",
                )
            )
        return None
    why = fence.refusal(real)
    if why is not None:
        problems.append(_refused(key, why, real, "folder" if os.path.isdir(real) else "file"))
        return None
    st = os.stat(real)
    if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
        return real, st
    problems.append(_special(key, st.st_mode))
    return None


def _refused(key: str, why: str, real: str, what: str) -> Diagnostic:
    if why == "outside the site":
        hint = f"copy the {what} into the site instead of linking to it"
    elif why.startswith("outside"):  # a theme's folder outside the site
        hint = f"copy the {what} into that folder instead of linking to it"
    else:
        hint = "remove the link: nothing in there is ever published"
    return Diagnostic(key, None, f"this {what} links {why} (to {real})", hint=hint)


def _special(key: str, mode: int) -> Diagnostic:
    what = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return Diagnostic(
        key,
        None,
        f"this is {what}, not a file: it is not read",
        Severity.WARNING,
        "remove it from the site's folders",
    )


def _loop(key: str, real: str) -> Diagnostic:
    return Diagnostic(
        key,
        None,
        f"this folder links to a folder it is in (to {real}): a loop",
        hint="remove the link",
    )


def open_input(path: str | Path) -> BufferedReader:
    """A regular file, open for reading; NotAFile (an OSError) for anything else,
    which is never waited on: a FIFO opens at once without a writer, and is refused."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = next((name for test, name in _KINDS if test(mode)), "not a file")
            raise NotAFile(errno.EINVAL, f"not a regular file ({what})", str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input(path: str | Path) -> bytes:
    """The bytes of a regular file (see open_input)."""
    with open_input(path) as f:
        return f.read()


def admit(fence: Fence, path: Path, key: str) -> tuple[bool, list[Diagnostic]]:
    """Whether the single file at `path` (a link or not: commsite.yaml) may be
    read, and, as errors, why not (nothing when there is no such file)."""
    problems: list[Diagnostic] = []
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            followed = _follow(fence, str(path), key, problems)
            st = followed[1] if followed is not None else st
    except OSError:
        return False, []
    if not problems and not stat.S_ISREG(st.st_mode):
        problems.append(_special(key, st.st_mode))
    return not problems, [p.as_error() for p in problems]


def check_inputs(fence: Fence, root: Path) -> tuple[set[str], list[Diagnostic]]:
    """Every input file the fence lets a build read (keys relative to `root`),
    and what it refuses, for the commands that read the site without scanning
    it first (`commsite check`, publish, the sidecar)."""
    admitted: set[str] = set()
    problems: list[Diagnostic] = []
    for name in INPUT_FILES:
        ok, more = admit(fence, root / name, name)
        problems += more
        if ok:
            admitted.add(name)
    for name in INPUT_DIRS:
        listing = list_files(fence, root / name, f"{name}/")
        admitted.update(key for key, _ in listing.files)
        problems += listing.problems
    return admitted, problems
