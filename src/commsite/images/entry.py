"""An image's made variants as one blob, as the build cache keeps them: a JSON
head line (size, media type, the pieces' sizes and lengths), then the pieces'
bytes one after another. `decode_made` checks the blob field by field and
returns None for anything `encode_made` would not have written (damage), so a
damaged cache entry is a miss and the image is made again. Pure."""

from __future__ import annotations

import json

from commsite.images.variants import Made, Piece

__all__ = ["decode_made", "encode_made"]

_ROLES = ("v", "s", "b")  # responsive variant, square (icon), banner (header)


def encode_made(made: Made) -> bytes:
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


def decode_made(blob: bytes) -> Made | None:
    """The Made `encode_made` wrote, or None when `blob` is not one (checked field by field)."""
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
