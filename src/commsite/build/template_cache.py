"""Compiled templates kept between builds, signed with a key kept outside the cache.

Compiling the default theme's templates takes about 0.1 s of CPU (macros.html
alone 57 ms), a tenth of a build after one edit. But Jinja2 stores a compiled
template as `marshal`led code after a pickled checksum: loading one runs it. So
each file here carries an HMAC-SHA256 of its bytes under a key that lives beside
the cache folder, not in it (`build-cache-key` in the data folder, mode 600,
made on first use), and Jinja2 sees the bytes only when the HMAC holds. A
template file from a CI cache (another machine's key), written by anyone else,
or damaged, is compiled again, quietly: another machine's files are expected.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from commsite.build.cache_files import COMPILED, remove
from commsite.datadir import DataDir

__all__ = ["KEY_NAME", "SignedBytecodeCache", "cache_key"]

KEY_NAME = "build-cache-key"  # in the data folder, beside build-cache/
KEY_BYTES = 32
FOLDER = COMPILED  # in build-cache/
_MAC_BYTES = 32
_MAX_BYTES = 16 * 1024 * 1024  # a compiled template is tens of KB
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class SignedBytecodeCache(jinja2.BytecodeCache):
    def __init__(self, cache_folder: Path, key: bytes) -> None:
        self.directory = cache_folder / FOLDER
        self._key = key

    def _file(self, bucket: Bucket) -> Path:
        return self.directory / f"{bucket.key}.code"  # (Jinja2's key: a SHA-1 in hex)

    def _mac(self, bucket: Bucket, payload: bytes) -> bytes:
        return hmac.digest(self._key, bucket.key.encode() + b"\0" + payload, "sha256")

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            fd = os.open(self._file(bucket), os.O_RDONLY | _NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                data = f.read(_MAX_BYTES)
        except OSError:  # none yet, a link, a folder: compiled again
            return
        mac, payload = data[:_MAC_BYTES], data[_MAC_BYTES:]
        if hmac.compare_digest(mac, self._mac(bucket, payload)):
            bucket.bytecode_from_string(payload)

    def dump_bytecode(self, bucket: Bucket) -> None:
        payload = bucket.bytecode_to_string()
        target = self._file(bucket)
        tmp = target.with_name(f".{target.name}.{os.getpid()}")
        try:
            self.directory.mkdir(exist_ok=True)
            remove(tmp)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(self._mac(bucket, payload) + payload)
            remove(target)  # (a folder in its place)
            os.replace(tmp, target)
        except OSError:  # a read-only cache: compiled again next time
            with contextlib.suppress(OSError):
                tmp.unlink()


def cache_key(data_folder: Path) -> bytes | None:
    """The key compiled templates are signed with (made on first use); None when
    it can be neither read nor made (templates are then compiled every build)."""
    path = data_folder / KEY_NAME
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            key = f.read(KEY_BYTES + 1)
        if len(key) == KEY_BYTES:
            return key
    except FileNotFoundError:
        pass
    except OSError:  # a link or a folder in its place
        pass
    key = secrets.token_bytes(KEY_BYTES)
    tmp = path.with_name(f".{KEY_NAME}.{os.getpid()}")
    try:
        DataDir(data_folder).ensure()  # (git-ignored: a key in a repository signs nothing)
        remove(tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        remove(path)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return None
    return key
