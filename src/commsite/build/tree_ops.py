"""The file-system operations the output switch (build.switch) is made of:
exchanging two folders in one step, copying a tree as hard links, and putting,
linking and removing one file of a tree (folders made or pruned as needed)."""

from __future__ import annotations

import errno
import functools
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from commsite.errors import CommsiteError

__all__ = [
    "exchange",
    "link_into",
    "link_tree",
    "prune_folders",
    "put_into",
    "remove_path",
    "tree_files",
]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}

# Making folders is most of the cost of `link_tree`, and much of that is waiting
# for the file system: threads overlap the waits, but contend for its locks too.
# Measured on the shared 2-core machine, 12,080 files and 6,300 folders (5,000
# stories): at load 5, one thread 2.7 s, sixteen 0.7 s; at load 8-12 (noisy),
# one 2.3 s (CPU 1.35), four 2.9-8 s (CPU 1.1-2.5), sixteen 3.3 s (CPU 1.9-2.3).
_LINK_THREADS = 4


@functools.cache
def _libc_renameat2() -> Callable[..., int] | None:
    import ctypes  # (here: a build with nothing to switch does not pay for it)

    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not Linux, or a C library without it
        return None
    c_int, c_path = ctypes.c_int, ctypes.c_char_p
    fn.argtypes = [c_int, c_path, c_int, c_path, ctypes.c_uint]
    fn.restype = c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux's renameat2 with RENAME_EXCHANGE). False,
    having changed nothing, where the system or the file system cannot."""
    fn = _libc_renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def link_tree(source: Path, target: Path) -> None:
    """Make `target` a copy of the tree `source` whose files are hard links to
    source's (folder by folder, a level at a time, in threads)."""
    from concurrent.futures import ThreadPoolExecutor

    os.mkdir(target)
    src, dst = str(source), str(target)

    def one(rel: str) -> list[str]:
        here = os.path.join(dst, rel)
        if rel:
            os.mkdir(here)
        folders = []
        with os.scandir(os.path.join(src, rel)) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(os.path.join(rel, entry.name))
                else:
                    os.link(entry.path, os.path.join(here, entry.name), follow_symlinks=False)
        return folders

    level = [""]
    with ThreadPoolExecutor(_LINK_THREADS, thread_name_prefix="link-tree") as pool:
        while level:
            level = [sub for subs in pool.map(one, level) for sub in subs]


def remove_path(path: Path) -> None:
    """Remove a file, link or folder; nothing there is fine."""
    try:
        os.unlink(path)
    except (FileNotFoundError, NotADirectoryError):
        pass
    except (IsADirectoryError, PermissionError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            raise


def _make_parents(base: Path, rel: str) -> Path:
    """base/rel's folder, made where missing (a file in the way is removed)."""
    target = base / rel
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        folder = base
        for part in rel.split("/")[:-1]:
            folder = folder / part
            if not folder.is_dir() or folder.is_symlink():
                remove_path(folder)
                folder.mkdir()
    return target


def link_into(output: Path, base: Path, rel: str) -> None:
    """base/rel made a hard link to output/rel (what is in the way removed)."""
    target = _make_parents(base, rel)
    if os.path.lexists(target):
        remove_path(target)
    try:
        os.link(output / rel, target, follow_symlinks=False)
    except FileNotFoundError:
        if (output / rel).exists():
            raise
        raise CommsiteError(
            f"{output / rel} disappeared while the site was being built; build again"
        ) from None


def put_into(staging: Path, base: Path, rel: str) -> None:
    """staging/rel renamed to base/rel (what is in the way removed)."""
    target = _make_parents(base, rel)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    os.replace(staging / rel, target)


def prune_folders(base: Path, removed: Iterable[str]) -> None:
    """Remove the folders under `base` that removing `removed` left empty."""
    parents = {rel.rpartition("/")[0] for rel in removed}
    for parent in sorted(parents, key=lambda p: p.count("/"), reverse=True):
        folder = base / parent
        while parent and folder != base:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


def tree_files(root: Path) -> set[str]:
    """Every file under `root`, as paths relative to it."""
    found: set[str] = set()
    base = len(str(root)) + 1
    for dirpath, _dirnames, filenames in os.walk(root):
        prefix = dirpath[base:].replace(os.sep, "/")
        found.update(f"{prefix}/{n}" if prefix else n for n in filenames)
    return found
