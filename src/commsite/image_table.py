"""What a build learned about the images in static/ that the content uses: their
size as shown (EXIF orientation applied) and the variants made of them
(build/images.py makes them with Pillow; render and federation read this).

The table rides on `SiteConfig.images`, so that everything keyed by the config
(every page key, the story cards, the federation objects) is made again when an
image changes. A site built without it (`commsite check`) has an empty table:
images are then shown without sizes or variants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ImageInfo", "ImageTable", "Variant", "static_key"]


@dataclass(frozen=True, slots=True)
class Variant:
    path: str  # the output file, e.g. "images/photo.960.3f2a9c1e77.webp"
    width: int
    height: int
    media_type: str


@dataclass(frozen=True, slots=True)
class ImageInfo:
    source: str  # the path under static/, e.g. "images/photo.jpg"
    width: int  # as shown: EXIF orientation applied
    height: int
    media_type: str
    # Responsive copies (WebP, metadata stripped), narrowest first; none for an
    # animated image, which is left alone.
    variants: tuple[Variant, ...] = ()
    square: Variant | None = None  # the actor's icon (400x400 at most)
    banner: Variant | None = None  # the actor's header (1500x500 at most)

    @property
    def largest(self) -> Variant | None:
        return self.variants[-1] if self.variants else None


@dataclass(frozen=True, slots=True)
class ImageTable:
    images: tuple[ImageInfo, ...] = ()
    _by_source: dict[str, ImageInfo] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )

    def __post_init__(self) -> None:
        self._by_source.update((i.source, i) for i in self.images)

    def get(self, path: str | None) -> ImageInfo | None:
        """The image at a path under static/ ("images/a.jpg" or "static/images/a.jpg")."""
        return self._by_source.get(static_key(path)) if path else None


def static_key(path: str) -> str:
    """A path under static/ as the table keys it: no leading '/' or 'static/'."""
    return path.lstrip("/").removeprefix("static/")
