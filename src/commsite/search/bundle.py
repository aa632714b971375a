"""Making Pagefind's bundle the same bytes for the same pages.

Pagefind (1.5) writes its page fragments and word index in a stable order, but
its filter files, the list of filters in its metadata file, and so the names of
those files and the hash in pagefind-entry.json, come out in a different order
on every run (an upstream hash map). A build promises byte-identical output for
the same input (SOURCE_DATE_EPOCH), deploys should not upload files that did
not change, and an incremental build must equal a clean one: so after Pagefind
has run, its filter values and filters are sorted, and the files they changed
are named again after their new content, as Pagefind names them.

The files are gzip streams of "pagefind_dcd" and a CBOR value made of
unsigned integers, text strings and arrays. Anything else (a future format) is
left as Pagefind wrote it: the bundle works, only not reproducibly.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

__all__ = ["canonical_bundle"]

_MAGIC = b"pagefind_dcd"
Value = int | str | list["Value"]


class _Unknown(ValueError):
    """A file this module does not understand: leave the bundle alone."""


def canonical_bundle(bundle: Path) -> bool:
    """Sort the filters of the bundle in `bundle` (a folder Pagefind wrote) and
    rename what that changed; False (and nothing changed) when its files are not
    as expected."""
    try:
        plan = _plan(bundle)
    except (_Unknown, OSError, ValueError, KeyError, TypeError, EOFError):
        return False
    for old, (new, data) in plan.items():
        (bundle / new).write_bytes(data)
        if new != old:
            (bundle / old).unlink()
    return True


def _plan(bundle: Path) -> dict[str, tuple[str, bytes]]:
    """Old relative path -> (new relative path, bytes), for every file to write."""
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_bytes())
    languages = entry["languages"]
    out: dict[str, tuple[str, bytes]] = {}
    for language in sorted(languages):
        info = languages[language]
        meta_name = f"pagefind.{info['hash']}.pf_meta"
        meta = _read(bundle / meta_name)
        if not (isinstance(meta, list) and len(meta) > 3 and isinstance(meta[3], list)):
            raise _Unknown(meta_name)
        filters: list[list[Value]] = []
        for item in meta[3]:
            if not (isinstance(item, list) and len(item) == 2):
                raise _Unknown(meta_name)
            name, file_hash = item
            if not (isinstance(name, str) and isinstance(file_hash, str)):
                raise _Unknown(meta_name)
            old = f"filter/{file_hash}.pf_filter"
            values = _read(bundle / old)
            if not (isinstance(values, list) and len(values) == 2):
                raise _Unknown(old)
            if not isinstance(values[1], list):
                raise _Unknown(old)
            values[1] = sorted(values[1], key=_sort_key)
            data, new_hash = _write(values, _prefix(file_hash), 7)
            out[old] = (f"filter/{new_hash}.pf_filter", data)
            filters.append([name, new_hash])
        meta[3] = sorted(filters, key=_sort_key)
        data, new_hash = _write(meta, _prefix(info["hash"]), 10)
        out[meta_name] = (f"pagefind.{new_hash}.pf_meta", data)
        info["hash"] = new_hash
    entry["languages"] = {k: languages[k] for k in sorted(languages)}
    text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    out["pagefind-entry.json"] = ("pagefind-entry.json", text.encode("utf-8"))
    return out


def _prefix(file_hash: str) -> str:
    """'en_' of 'en_3bcc76f' (a language code may hold '-', never '_')."""
    language, sep, _ = file_hash.rpartition("_")
    if not sep:
        raise _Unknown(file_hash)
    return language + "_"


def _sort_key(item: Value) -> str:
    if not (isinstance(item, list) and item and isinstance(item[0], str)):
        raise _Unknown("a filter entry without a name")
    return item[0]


def _read(path: Path) -> Value:
    raw = gzip.decompress(path.read_bytes())
    if not raw.startswith(_MAGIC):
        raise _Unknown(path.name)
    value, end = _decode(raw, len(_MAGIC))
    if end != len(raw) or _encode(value) != raw[len(_MAGIC) :]:
        raise _Unknown(path.name)  # (not written as this module would write it)
    return value


def _write(value: Value, prefix: str, digits: int) -> tuple[bytes, str]:
    """The gzip file for `value` (reproducible: no time or name in its header)
    and its name, a hash of its content as Pagefind's are."""
    raw = _MAGIC + _encode(value)
    name = prefix + hashlib.sha256(raw).hexdigest()[:digits]
    return gzip.compress(raw, compresslevel=9, mtime=0), name


# --- the CBOR subset: unsigned integers (0), text (3), arrays (4) ---------------


def _decode(data: bytes, at: int) -> tuple[Value, int]:
    head = data[at]
    major, small = head >> 5, head & 31
    at += 1
    if small < 24:
        n = small
    elif small <= 27:
        width = 1 << (small - 24)
        n = int.from_bytes(data[at : at + width], "big")
        at += width
    else:
        raise _Unknown(f"CBOR head {head:#x}")
    if major == 0:
        return n, at
    if major == 3:
        return data[at : at + n].decode("utf-8"), at + n
    if major == 4:
        items: list[Value] = []
        for _ in range(n):
            item, at = _decode(data, at)
            items.append(item)
        return items, at
    raise _Unknown(f"CBOR major type {major}")


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for small, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * width):
            return bytes([major << 5 | small]) + n.to_bytes(width, "big")
    raise _Unknown("a number too large")


def _encode(value: Value) -> bytes:
    if isinstance(value, bool):
        raise _Unknown("a boolean")
    if isinstance(value, int):
        return _head(0, value)
    if isinstance(value, str):
        data = value.encode("utf-8")
        return _head(3, len(data)) + data
    return _head(4, len(value)) + b"".join(_encode(item) for item in value)
