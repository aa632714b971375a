"""A published story with images reaches a Fedify follower with its attachments.

The site is built (variants made), then `publish` delivers over loopback to an
inbox run by Fedify (tests/js/fedify-inbox.mjs, @fedify/fedify on Node: an
independent implementation), which verifies the signature, parses the Create
with Fedify's vocabulary and says what it found: each image as an attachment
with its URL (a metadata-free variant the build wrote), its alt text as `name`
and its size, as Mastodon shows them in the post.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from commsite.build.images import with_images
from commsite.build.run import BuildOptions, build_site
from commsite.database import connect
from commsite.datadir import DataDir
from commsite.federation.fetch import Fetcher
from commsite.federation.followers import Follower, FollowerStore
from commsite.federation.publish import publish
from needs import JS_DIR, executable, node_package
from publish_peers import Origin, serve_actor, write_site

NOW = datetime.now(UTC).replace(microsecond=0)
ALT = "A wheel on a workbench, a red spoke key beside it"
BODY_ALT = "The spoke key, close up"


def photo(width: int, height: int, *, gps: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (180, 120, 60))
    exif = image.getexif()
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 31.0, 0.0), 3: "E", 4: (13.0, 24.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def inbox() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    node_package("@fedify/fedify")
    proc = subprocess.Popen(
        [executable("node"), str(JS_DIR / "fedify-inbox.mjs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("LISTENING "):
            proc.kill()
            pytest.fail(f"fedify-inbox.mjs did not start: {line!r} {proc.stderr.read()}")  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{int(line.split()[1])}/inbox", proc
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_a_story_with_images_reaches_fedify_with_attachments_and_alt_text(
    tmp_path: Path, inbox: tuple[str, subprocess.Popen[str]]
) -> None:
    address, proc = inbox
    origin = Origin()
    try:
        root = tmp_path / "site"
        write_site(root, origin.base_url, {})
        (root / "static" / "images").mkdir(parents=True)
        (root / "static" / "images" / "wheel.jpg").write_bytes(photo(1200, 800, gps=True))
        (root / "static" / "images" / "key.jpg").write_bytes(photo(300, 200))
        (root / "content" / "stories" / "wheel.md").write_text(
            "---\ntitle: Truing a wheel\n"
            f"date: {NOW.date().isoformat()}\n"
            "image: images/wheel.jpg\n"
            f"image_alt: {ALT}\n---\n"
            "We trued a wheel.\n\n"
            f"![{BODY_ALT}](/images/key.jpg)\n",
            encoding="utf-8",
        )
        built = build_site(BuildOptions(root=root, jobs=1), now=NOW)
        assert built.ok, [d.format() for d in built.diagnostics]
        assert (built.images_made, built.images_reused) == (2, 0)
        serve_actor(origin, root, NOW)
        with closing(connect(DataDir.for_site(root).database)) as conn:
            FollowerStore(conn).add(
                Follower(
                    actor="http://127.0.0.1:1/users/ana",
                    inbox=address,
                    shared_inbox=None,
                    follow_id="http://127.0.0.1:1/users/ana#follow",
                    since=NOW,
                    handle="@ana@fedify.example",
                )
            )
        report = publish(
            root,
            now=NOW,
            fetcher=Fetcher(allow_private=True, timeout=20),
            images=with_images(root),
        )
        assert not report.failures
        assert proc.stdout is not None
        seen = json.loads(proc.stdout.readline())
    finally:
        origin.stop()

    assert seen.get("verified") is True, seen
    assert seen["type"] == "Create"
    assert seen["object"]["id"] == f"{origin.base_url}ap/stories/wheel"
    hero, body = seen["object"]["attachments"]
    assert hero["name"] == ALT
    assert body["name"] == BODY_ALT
    assert hero["type"] == body["type"] == "Image"
    # The largest variant: as wide as the original (1200), never wider.
    assert hero["url"] == f"{origin.base_url}images/wheel.1200.{hero['url'].split('.')[-2]}.webp"
    # (not wider than the original: the key photo's own width)
    assert body["url"].startswith(f"{origin.base_url}images/key.300.")
    assert (hero["mediaType"], hero["width"], hero["height"]) == ("image/webp", 1200, 800)
    assert (body["width"], body["height"]) == (300, 200)
    # What the follower is sent to is what the build wrote, without the GPS position.
    for url in (hero["url"], body["url"]):
        written = root / "public" / url.removeprefix(origin.base_url)
        with Image.open(written) as variant:
            assert variant.format == "WEBP"
            assert not variant.getexif()
            assert "exif" not in variant.info and "xmp" not in variant.info
