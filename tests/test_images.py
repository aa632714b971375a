"""Images: responsive variants made with Pillow, kept by content hash, and what a
page and a careless organiser get from them.

Hostile images (a decompression bomb, a damaged file, a file that is not what its
name says), photos with EXIF orientation and a GPS position, an animated GIF; a
second build that must not make anything again (by the build's own record,
last-build.json); an image changed in place; a damaged cache entry, in the build
and field by field.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from commsite.build.cache import BuildCache
from commsite.build.run import BuildOptions, BuildResult, build_site
from commsite.config import SiteConfig
from commsite.content.image_refs import body_images, static_image
from commsite.datadir import DataDir
from commsite.federation.keys import generate_keypair, write_keys
from commsite.image_table import ImageInfo, ImageTable, Variant
from commsite.images import variants as image_variants
from commsite.images.entry import decode_made, encode_made
from commsite.images.variants import ImageProblem, make_variants
from commsite.render.body_images import responsive_body

NOW = datetime(2026, 10, 1, 12, tzinfo=UTC)
GPS = {1: "N", 2: (52.0, 31.0, 0.0), 3: "E", 4: (13.0, 24.0, 0.0)}


def jpeg(
    width: int, height: int, *, orientation: int = 1, gps: bool = False, seed: int = 0
) -> bytes:
    image = Image.new("RGB", (width, height), (40 + seed, 120, 200))
    image.paste((250, 30, 30), (0, 0, width // 4, height // 4))  # a red top-left corner
    exif = image.getexif()
    if orientation != 1:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


# --- the variants of one image ------------------------------------------------------


def test_variants_are_never_wider_than_the_original() -> None:
    made = make_variants(jpeg(1000, 500))
    assert (made.width, made.height, made.media_type) == (1000, 500, "image/jpeg")
    assert [(p.name, p.width, p.height) for p in made.variants] == [
        ("240", 240, 120),
        ("480", 480, 240),
        ("960", 960, 480),
        ("1000", 1000, 500),
    ]
    big = make_variants(jpeg(2400, 1200))
    assert [p.width for p in big.variants] == [240, 480, 960, 1600]
    small = make_variants(jpeg(200, 100))
    assert [p.width for p in small.variants] == [200]
    for piece in (*made.variants, *big.variants):
        assert piece.media_type == "image/webp"
        with Image.open(io.BytesIO(piece.data)) as image:
            assert image.format == "WEBP" and image.size == (piece.width, piece.height)


def test_exif_orientation_is_applied_and_gps_never_leaves() -> None:
    # Orientation 6: the camera was turned; the file is 800x400, the photo 400x800.
    made = make_variants(jpeg(800, 400, orientation=6, gps=True), square=True, banner=True)
    assert (made.width, made.height) == (400, 800)
    assert made.variants[-1].width == 400 and made.variants[-1].height == 800
    for piece in (*made.variants, made.square, made.banner):
        assert piece is not None
        with Image.open(io.BytesIO(piece.data)) as image:
            assert not image.getexif(), piece.name
            assert not ({"exif", "xmp", "XML:com.adobe.xmp"} & image.info.keys()), piece.name
            assert image.getexif().get(0x8825) is None


def test_actor_icon_is_square_and_header_three_to_one() -> None:
    made = make_variants(jpeg(2000, 1200), square=True, banner=True)
    assert made.square is not None and made.banner is not None
    assert (made.square.width, made.square.height, made.square.media_type) == (
        400,
        400,
        "image/jpeg",
    )
    assert (made.banner.width, made.banner.height) == (1500, 500)
    small = make_variants(jpeg(300, 200), square=True, banner=True)
    assert small.square is not None and small.banner is not None
    assert (small.square.width, small.square.height) == (200, 200)  # not enlarged
    assert (small.banner.width, small.banner.height) == (300, 100)


def test_a_decompression_bomb_is_refused_before_it_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(ImageProblem, match=r"\(101x100 pixels\).*decompression bomb"):
        make_variants(jpeg(101, 100))  # just over: only a warning in Pillow
    with pytest.raises(ImageProblem, match=r"\(90,000 pixels\).*decompression bomb"):
        make_variants(jpeg(300, 300))  # far over: Pillow's DecompressionBombError


def test_damaged_and_foreign_files_are_problems_not_crashes() -> None:
    whole = jpeg(400, 300)
    with pytest.raises(ImageProblem, match="damaged or cut short"):
        make_variants(whole[: len(whole) // 2])
    with pytest.raises(ImageProblem, match="not an image"):
        make_variants(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    bmp = io.BytesIO()
    Image.new("RGB", (10, 10)).save(bmp, "BMP")  # a decoder we never open
    with pytest.raises(ImageProblem, match="not an image"):
        make_variants(bmp.getvalue())
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"  # Ghostscript's, never reached
    with pytest.raises(ImageProblem, match="not an image"):
        make_variants(eps)


def test_an_animated_gif_is_measured_and_left_alone() -> None:
    frames = [Image.new("RGB", (64, 48), (80 * i, 40, 200 - 60 * i)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    made = make_variants(out.getvalue())
    assert made.animated and made.variants == ()
    assert (made.width, made.height, made.media_type) == (64, 48, "image/gif")


def test_transparency_is_kept() -> None:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    made = make_variants(out.getvalue(), square=True)
    assert made.square is not None and made.square.media_type == "image/png"
    with Image.open(io.BytesIO(made.variants[0].data)) as variant:
        assert variant.mode == "RGBA"


# --- a site built with images -------------------------------------------------------


def write_site(root: Path) -> None:
    (root / "content" / "stories").mkdir(parents=True)
    (root / "content" / "members").mkdir(parents=True)
    (root / "static" / "images").mkdir(parents=True)
    (root / "commsite.yaml").write_text(
        "title: Image Club\nbase_url: https://club.example/\n"
        "community:\n  avatar: images/logo.jpg\n  header_image: images/hall.jpg\n",
        encoding="utf-8",
    )
    (root / "content" / "rules.md").write_text("---\ntitle: Rules\n---\n1. Be kind.\n")
    write_keys(root, generate_keypair())  # (federation on: the objects carry the images)
    images = root / "static" / "images"
    images.joinpath("wheel.jpg").write_bytes(jpeg(1200, 800, gps=True))
    images.joinpath("key.jpg").write_bytes(jpeg(600, 400, seed=1))
    images.joinpath("ada.jpg").write_bytes(jpeg(500, 500, seed=2))
    images.joinpath("logo.jpg").write_bytes(jpeg(300, 300, seed=3))
    images.joinpath("hall.jpg").write_bytes(jpeg(1600, 900, seed=4))
    images.joinpath("unused.jpg").write_bytes(jpeg(900, 900, seed=5))
    (root / "content" / "members" / "ada.md").write_text(
        "---\nname: Ada Okafor\navatar: images/ada.jpg\n---\nFixes radios.\n"
    )
    (root / "content" / "stories" / "wheel.md").write_text(
        "---\ntitle: Truing a wheel\ndate: 2026-09-01\nauthor: ada\n"
        "image: images/wheel.jpg\nimage_alt: A wheel on a workbench\n---\n"
        "We trued a wheel.\n\n![The spoke key](/images/key.jpg)\n"
    )
    (root / "content" / "stories" / "other.md").write_text(
        "---\ntitle: Another story\ndate: 2026-08-01\n---\nNo pictures here.\n"
    )


def build(root: Path, **options: object) -> BuildResult:
    result = build_site(BuildOptions(root=root, jobs=1, **options), now=NOW)  # type: ignore[arg-type]
    assert result.ok, [d.format() for d in result.diagnostics]
    return result


def last_build(root: Path) -> dict[str, object]:
    path = DataDir.for_site(root).build_cache / "last-build.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def variants(root: Path) -> list[str]:
    public = root / "public"
    return sorted(
        p.relative_to(public).as_posix()
        for p in public.rglob("*")
        if re.search(r"\.\d+(x\d+)?\.[0-9a-f]{10}\.\w+$", p.name)
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    write_site(root)
    return root


def test_variants_are_made_once_and_not_again_on_a_second_build(site: Path) -> None:
    first = build(site)
    assert (first.images_made, first.images_reused) == (5, 0)  # (unused.jpg: not shown)
    assert last_build(site)["images"] == {"made": 5, "reused": 0}
    made = variants(site)
    assert "images/wheel.1200." in " ".join(made) and "unused" not in " ".join(made)
    assert any(p.startswith("images/logo.300x300.") for p in made)
    assert any(p.startswith("images/hall.1500x500.") for p in made)
    # A second build with a change elsewhere goes through the whole pipeline: it
    # takes every image from the build cache, and makes none.
    story = site / "content" / "stories" / "other.md"
    story.write_text(story.read_text() + "\nMore words.\n")
    second = build(site)
    assert last_build(site)["images"] == {"made": 0, "reused": 5}
    assert (second.images_made, second.images_reused) == (0, 5)
    assert not [p for p in second.written if p.startswith("images/")]
    assert variants(site) == made


def test_a_changed_image_refreshes_its_variants_and_the_pages_that_show_it(site: Path) -> None:
    build(site)
    before = variants(site)
    (site / "static" / "images" / "key.jpg").write_bytes(jpeg(800, 500, seed=9))
    result = build(site)
    assert last_build(site)["images"] == {"made": 1, "reused": 4}
    after = variants(site)
    gone, new = sorted(set(before) - set(after)), sorted(set(after) - set(before))
    assert gone and all(p.startswith("images/key.") for p in gone)
    assert new and all(p.startswith("images/key.") for p in new)
    assert set(gone) <= set(result.removed)
    assert "stories/wheel/index.html" in result.written
    page = (site / "public" / "stories" / "wheel" / "index.html").read_text()
    assert 'src="/images/key.jpg" alt="The spoke key" width="800" height="500"' in page
    assert all(p not in page for p in gone)
    document = json.loads((site / "public" / "ap" / "stories" / "wheel").read_text())
    urls = [a["url"] for a in document["attachment"]]
    assert urls[1] == "https://club.example/" + next(p for p in new if ".800." in p)


def test_the_story_page_markup(site: Path) -> None:
    build(site)
    page = (site / "public" / "stories" / "wheel" / "index.html").read_text()
    hero = re.search(r"<picture>.*?</picture>", page, re.S)
    assert hero is not None
    assert '<source type="image/webp" srcset="/images/wheel.240.' in hero.group(0)
    assert re.search(r"wheel\.1200\.[0-9a-f]{10}\.webp 1200w", hero.group(0))
    assert 'sizes="(min-width: 47rem) 44rem, calc(100vw - 2.5rem)"' in hero.group(0)
    assert (
        '<img src="/images/wheel.jpg" alt="A wheel on a workbench" width="1200" height="800"'
        ' fetchpriority="high">' in hero.group(0)
    )
    # The body's image: below the hero, so lazy.
    assert (
        '<img src="/images/key.jpg" alt="The spoke key" width="600" height="400"'
        ' loading="lazy" decoding="async"></picture>' in page
    )
    member = (site / "public" / "members" / "ada" / "index.html").read_text()
    assert re.search(
        r'<img class="avatar" src="/images/ada.jpg" srcset="/images/ada.240.[0-9a-f]{10}.webp'
        r' 240w, [^"]+ 480w, [^"]+ 500w" sizes="128px" alt="Ada Okafor" width="128"'
        r' height="128">',
        member,
    )


def test_a_damaged_cache_entry_is_a_miss(site: Path) -> None:
    build(site)
    cache_dir = DataDir.for_site(site).build_cache
    cache = BuildCache.open(cache_dir, site / "public")
    assert cache._conn is not None
    # Rewrite an entry with a valid checksum over a value that does not decode.
    key = cache._conn.execute("SELECT key FROM images LIMIT 1").fetchone()[0]
    cache._put_checked("images", {key: b'{"size": [1, 1]}\nnot an image entry'}, 99, list)
    cache.close()
    (site / "content" / "stories" / "other.md").write_text(
        "---\ntitle: Another story\ndate: 2026-08-01\n---\nChanged.\n"
    )
    result = build_site(BuildOptions(root=site, jobs=1), now=NOW)
    assert result.ok
    assert last_build(site)["images"] == {"made": 1, "reused": 4}
    assert any("the build cache was damaged" in d.message for d in result.diagnostics)
    # The cache was made again with what that build knew: nothing to make next time.
    (site / "content" / "stories" / "other.md").write_text(
        "---\ntitle: Another story\ndate: 2026-08-01\n---\nChanged again.\n"
    )
    build(site)
    assert last_build(site)["images"] == {"made": 0, "reused": 5}


def test_a_cache_entry_reads_back_exactly_and_anything_else_is_none() -> None:
    """The images table's entries (images/entry.py) are data checked field by
    field: what encode_made wrote decodes to the same Made, and a truncated,
    padded or tampered entry (a piece name that would steer a file name, a
    length past the end, a second icon) is None, a miss, never a crash."""
    made = make_variants(jpeg(1200, 900), square=True, banner=True)
    assert made.square is not None
    blob = encode_made(made)
    assert decode_made(blob) == made
    head, _, rest = blob.partition(b"\n")
    fields = json.loads(head)

    def with_head(**changes: object) -> bytes:
        return json.dumps({**fields, **changes}).encode() + b"\n" + rest

    first = fields["pieces"][0]
    square = next(p for p in fields["pieces"] if p[0] == "s")
    damaged = [
        b"",
        blob[:-1],  # truncated
        blob + b"x",  # bytes no piece claims
        b"not json\n" + rest,
        head,  # no newline, no pieces
        with_head(extra=1),
        with_head(size=[0, 900]),
        with_head(type="image/svg+xml"),
        with_head(animated="no"),
        with_head(pieces=[["v", "../../x", *first[2:]], *fields["pieces"][1:]]),
        with_head(pieces=[[*first[:5], "exe", first[6]], *fields["pieces"][1:]]),
        with_head(pieces=[[*first[:6], len(rest) + 1], *fields["pieces"][1:]]),
        # two icons, each with its bytes
        with_head(pieces=[*fields["pieces"], square]) + made.square.data,
    ]
    for entry in damaged:
        assert decode_made(entry) is None, entry[:120]


def test_a_bad_image_is_a_warning_and_a_bomb_an_error(site: Path) -> None:
    (site / "static" / "images" / "key.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    result = build_site(BuildOptions(root=site, jobs=1), now=NOW)
    assert result.ok
    assert [d.format() for d in result.diagnostics if "key.jpg" in d.path] == [
        "static/images/key.jpg: warning: cannot make smaller copies of this image: the"
        " image is damaged or cut short (Truncated File Read); save it again from an"
        " image editor as JPEG, PNG or WebP"
    ]
    page = (site / "public" / "stories" / "wheel" / "index.html").read_text()
    assert '<img src="/images/key.jpg" alt="The spoke key" />' in page  # shown as written

    huge = Image.new("1", (12_000, 9_000))  # 108 Mpx, a few KB as PNG
    out = io.BytesIO()
    huge.save(out, "PNG")
    assert len(out.getvalue()) < 100_000
    (site / "static" / "images" / "key.jpg").write_bytes(out.getvalue())
    before = (site / "public" / "stories" / "wheel" / "index.html").read_bytes()
    result = build_site(BuildOptions(root=site, jobs=1), now=NOW)
    assert not result.ok
    [bomb] = [d for d in result.diagnostics if "key.jpg" in d.path]
    assert bomb.is_error and bomb.path == "static/images/key.jpg"
    assert "too large to open safely (12000x9000 pixels)" in bomb.message
    assert "decompression bomb" in bomb.message
    assert (site / "public" / "stories" / "wheel" / "index.html").read_bytes() == before


def test_missing_alt_text_is_a_warning_with_its_line(site: Path) -> None:
    (site / "content" / "stories" / "wheel.md").write_text(
        "---\ntitle: Truing a wheel\ndate: 2026-09-01\nimage: images/wheel.jpg\n---\n"
        "We trued a wheel.\n\n![](/images/key.jpg)\n\nAnd ![ ](/images/key.jpg) again.\n"
    )
    result = build_site(BuildOptions(root=site, jobs=1), now=NOW)
    assert result.ok
    assert [d.format() for d in result.diagnostics if d.path.endswith("wheel.md")] == [
        "content/stories/wheel.md:4: warning: the image has no description for people who"
        " cannot see it; add 'image_alt:' saying what the picture shows, e.g. image_alt:"
        " Two people fixing a bicycle wheel",
        "content/stories/wheel.md:8: warning: an image without alt text; say what it shows"
        " between the brackets: ![Two people fixing a bicycle](photo.jpg)",
        "content/stories/wheel.md:10: warning: an image without alt text; say what it shows"
        " between the brackets: ![Two people fixing a bicycle](photo.jpg)",
    ]


def test_a_site_without_images_never_imports_pillow_to_build(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = tmp_path / "plain"
    (root / "content" / "stories").mkdir(parents=True)
    (root / "commsite.yaml").write_text("title: Plain\nbase_url: https://plain.example/\n")
    (root / "content" / "rules.md").write_text("---\ntitle: Rules\n---\n1. Be kind.\n")
    code = (
        "import sys; from pathlib import Path; from datetime import datetime, timezone\n"
        "from commsite.build.run import BuildOptions, build_site\n"
        f"r = build_site(BuildOptions(root=Path({str(root)!r}), jobs=1),"
        " now=datetime(2026, 10, 1, tzinfo=timezone.utc))\n"
        "assert r.ok, r.diagnostics\n"
        "print('PIL' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert image_variants.VERSION >= 1


# --- images in a rendered body ------------------------------------------------------


def _config_with(*infos: ImageInfo) -> SiteConfig:
    return SiteConfig(title="T", base_url="https://club.example/sub/", images=ImageTable(infos))


KEY = ImageInfo(
    "images/key.jpg",
    600,
    400,
    "image/jpeg",
    (Variant("images/key.240.0123456789.webp", 240, 160, "image/webp"),),
)


def test_a_body_image_of_the_table_gets_its_size_and_variants() -> None:
    config = _config_with(KEY)
    body = (
        '<p><img src="/sub/images/key.jpg" alt="A &quot;key&quot; &lt;b&gt;" title="Spoke key" />'
        ' <img src="../../images/key.jpg" alt="relative">'
        ' <img src="https://elsewhere.example/images/key.jpg" alt="not ours">'
        ' <img src="/sub/images/other.jpg" alt="not measured"></p>'
    )
    out = responsive_body(config, "stories/x/", body, eager_first=True)
    assert out.count("<picture>") == 2
    assert (
        '<picture><source type="image/webp" srcset="/sub/images/key.240.0123456789.webp 240w"'
        ' sizes="(min-width: 47rem) 44rem, calc(100vw - 2.5rem)"><img src="/sub/images/key.jpg"'
        ' alt="A &quot;key&quot; &lt;b&gt;" title="Spoke key" width="600" height="400"'
        ' fetchpriority="high"></picture>'
    ) in out
    assert 'alt="relative" width="600" height="400" loading="lazy" decoding="async">' in out
    assert '<img src="https://elsewhere.example/images/key.jpg" alt="not ours">' in out
    assert '<img src="/sub/images/other.jpg" alt="not measured">' in out
    assert body_images(config, "stories/x/", body) == [
        ("images/key.jpg", 'A "key" <b>'),
        ("images/key.jpg", "relative"),
    ]


def test_an_organisers_own_picture_and_sized_images_are_left_as_written() -> None:
    config = _config_with(KEY)
    own = (
        '<picture><source srcset="/sub/images/key.jpg">'
        '<img src="/sub/images/key.jpg" alt="k"></picture>'
    )
    assert responsive_body(config, "stories/x/", own) == own
    sized = '<img src="/sub/images/key.jpg" alt="k" width="10" height="10">'
    assert responsive_body(config, "stories/x/", sized) == sized
    assert static_image(config, "stories/x/", "/elsewhere/images/key.jpg") is None
    assert static_image(config, "stories/x/", "mailto:a@b.example") is None
