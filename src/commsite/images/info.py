"""What the site is told of a made image: its row of the image table (the
variants' sizes and file names, which carry the cache key so a changed photo
gets new names) and the made files' bytes by output path; and the problem an
image that cannot be made is reported as. Pure."""

from __future__ import annotations

from collections.abc import Iterable

from commsite.errors import Diagnostic, Severity
from commsite.image_table import ImageInfo, Variant
from commsite.images.variants import Made, Piece

__all__ = ["image_files", "image_info", "image_problem"]


def image_info(source: str, made: Made, key: bytes) -> ImageInfo:
    """The image table's row for `made` (the image at static/`source`)."""
    return ImageInfo(
        source=source,
        width=made.width,
        height=made.height,
        media_type=made.media_type,
        variants=tuple(_variant(source, p, key) for p in made.variants),
        square=_variant(source, made.square, key) if made.square else None,
        banner=_variant(source, made.banner, key) if made.banner else None,
    )


def image_files(made: Made, info: ImageInfo) -> Iterable[tuple[str, bytes]]:
    """(output path, bytes) of each file made for the image `info` describes."""
    pieces = zip(made.variants, info.variants, strict=True)
    for piece, variant in pieces:
        yield variant.path, piece.data
    if made.square is not None and info.square is not None:
        yield info.square.path, made.square.data
    if made.banner is not None and info.banner is not None:
        yield info.banner.path, made.banner.data


def image_problem(source: str, message: str) -> Diagnostic:
    """The image at static/`source` could not be made (`message`: why): a warning,
    or an error for a decompression bomb."""
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
