"""Two file-system operations the output switch (build.switch) is made of:
exchanging two folders in one step, and copying a tree as hard links."""

from __future__ import annotations

import errno
import functools
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["exchange", "link_tree"]

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
