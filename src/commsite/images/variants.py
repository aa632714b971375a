"""Responsive copies of one image, made with Pillow: a pure function of its bytes.

Given the bytes of a raster image from static/, `make_variants` returns its size
as shown (EXIF orientation applied) and WebP copies at a few widths, never wider
than the original, turned upright and without metadata (no EXIF, so no GPS
position, no XMP); on request also a square (the actor's icon) and a 3:1 crop
(the actor's header). Animated images are measured and left alone.

Only JPEG, PNG, GIF and WebP are opened (Pillow's other decoders, some of them
delegating to outside programs, are never reached), and an image of more than
Pillow's MAX_IMAGE_PIXELS is refused before it is decoded (a decompression
bomb: a few KB that unpack to gigabytes). Whatever Pillow cannot read is an
`ImageProblem` with a message for the organiser.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (imported when an image is made: Pillow takes ~0.1 s to import)
    from PIL import Image

__all__ = [
    "BANNER",
    "FORMATS",
    "SQUARE",
    "VERSION",
    "WIDTHS",
    "ImageProblem",
    "Made",
    "Piece",
    "make_variants",
]

VERSION = 1  # of what is made: part of the cache key
WIDTHS = (240, 480, 960, 1600)  # from avatars (128 CSS px at 2x) to full-width photos
SQUARE = 400  # Mastodon shows avatars at up to 400x400
BANNER = (1500, 500)  # and headers at 1500x500
FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
WEBP_QUALITY = 80
JPEG_QUALITY = 85


class ImageProblem(Exception):
    """An image that cannot be used; the message says why, for the organiser."""


@dataclass(frozen=True, slots=True)
class Piece:
    """One made file: `name` is what goes into its file name ("960", "400x400")."""

    name: str
    width: int
    height: int
    media_type: str
    extension: str  # without the dot
    data: bytes


@dataclass(frozen=True, slots=True)
class Made:
    width: int
    height: int
    media_type: str
    animated: bool
    variants: tuple[Piece, ...]  # narrowest first
    square: Piece | None = None
    banner: Piece | None = None


def make_variants(data: bytes, *, square: bool = False, banner: bool = False) -> Made:
    """The size of the image in `data` and its variants (see the module's doc)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        # Between MAX_IMAGE_PIXELS and twice that Pillow only warns: _check_size
        # refuses those (before anything is decoded), saying how big they are.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            _check_size(image)
            image.load()
        except Image.DecompressionBombError as exc:  # (more than twice the limit)
            raise ImageProblem(_too_big(pixels=_pixels(str(exc)))) from None
        except ImageProblem:
            raise
        except UnidentifiedImageError:
            raise ImageProblem(
                "not an image Pillow can read (JPEG, PNG, GIF or WebP expected)"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageProblem(f"the image is damaged or cut short ({exc})") from None
    media_type = _TYPES[image.format or "PNG"]
    if getattr(image, "is_animated", False) and getattr(image, "n_frames", 1) > 1:
        width, height = image.size
        return Made(width, height, media_type, True, ())
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as exc:  # a damaged EXIF block
        raise ImageProblem(f"the image's EXIF data is damaged ({exc})") from None
    width, height = upright.size
    alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    clean = upright.convert("RGBA" if alpha else "RGB")
    icc = image.info.get("icc_profile")
    clean.info = {}  # no EXIF, XMP or comments in what is made
    widths = [w for w in WIDTHS if w < width]
    if width <= WIDTHS[-1]:
        widths.append(width)
    variants = tuple(
        _webp(str(w), _scaled(clean, w, max(1, round(height * w / width))), icc) for w in widths
    )
    return Made(
        width,
        height,
        media_type,
        False,
        variants,
        _square(clean, alpha, icc) if square else None,
        _banner(clean, icc) if banner else None,
    )


def _check_size(image: Image.Image) -> None:
    from PIL import Image

    width, height = image.size
    limit = Image.MAX_IMAGE_PIXELS
    if width <= 0 or height <= 0:
        raise ImageProblem("the image has no pixels")
    if limit is not None and width * height > limit:
        raise ImageProblem(_too_big(width, height))


def _too_big(width: int | None = None, height: int | None = None, pixels: int | None = None) -> str:
    from PIL import Image

    size = f" ({width}x{height} pixels)" if width and height else ""
    if pixels and not size:
        size = f" ({pixels:,} pixels)"
    limit = Image.MAX_IMAGE_PIXELS or 0
    return (
        f"the image is too large to open safely{size}: more than {limit:,} pixels,"
        " which is how decompression bombs look"
    )


def _pixels(message: str) -> int | None:
    """The pixel count in Pillow's DecompressionBombError message, if it says."""
    match = re.search(r"\((\d+) pixels\)", message)
    return int(match.group(1)) if match else None


def _scaled(image: Image.Image, width: int, height: int) -> Image.Image:
    from PIL import Image

    if image.size == (width, height):
        return image
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _webp(name: str, image: Image.Image, icc: object) -> Piece:
    out = io.BytesIO()
    options: dict[str, object] = {"quality": WEBP_QUALITY, "method": 4}
    if isinstance(icc, bytes):
        options["icc_profile"] = icc
    image.save(out, "WEBP", **options)
    return Piece(name, image.width, image.height, "image/webp", "webp", out.getvalue())


def _square(image: Image.Image, alpha: bool, icc: object) -> Piece:
    from PIL import Image, ImageOps

    side = min(SQUARE, image.width, image.height)
    cropped = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)
    return _flat(f"{side}x{side}", cropped, alpha, icc)


def _banner(image: Image.Image, icc: object) -> Piece:
    from PIL import Image, ImageOps

    wide, high = BANNER
    width = min(wide, image.width, image.height * wide // high)
    height = max(1, width * high // wide)
    cropped = ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
    return _flat(f"{width}x{height}", cropped, False, icc)


def _flat(name: str, image: Image.Image, alpha: bool, icc: object) -> Piece:
    """PNG (with transparency) or JPEG: what every fediverse server takes for an
    avatar or header."""
    out = io.BytesIO()
    options: dict[str, object] = {}
    if isinstance(icc, bytes):
        options["icc_profile"] = icc
    if alpha:
        image.save(out, "PNG", optimize=True, **options)
        return Piece(name, image.width, image.height, "image/png", "png", out.getvalue())
    image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, **options)
    return Piece(name, image.width, image.height, "image/jpeg", "jpg", out.getvalue())
