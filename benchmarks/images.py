"""What image variants cost: a build that makes them, and one that reuses them.

    python benchmarks/images.py [--stories 500] [--images 40] [--rounds 3]

Generates build.py's synthetic site and gives `--images` of its stories a
photo-like JPEG (2400x1600, noise and shapes, with EXIF) as `image:` plus
`image_alt:`, then runs `commsite build` in new processes, each round on a
fresh copy:

* first: no output, no build cache: every image's variants are made;
* second: one story's body changed: the whole pipeline runs again, and every
  image comes from the build cache (last-build.json says how many were made);
* plain: the same site without the images, cold, for comparison.

Prints the medians (wall seconds) and the counts from last-build.json.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import generate_site  # (the benchmark's own generator)


def photo(seed: int, width: int = 2400, height: int = 1600) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (rng.randrange(256), 120, 160))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(20, 300)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(3))
    grain = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(image, grain, 0.15)
    exif = image.getexif()
    exif[0x010F] = "Benchmark Camera"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def add_images(root: Path, count: int) -> None:
    stories = sorted((root / "content" / "stories").glob("*.md"))[:count]
    folder = root / "static" / "images"
    folder.mkdir(parents=True, exist_ok=True)
    for n, story in enumerate(stories):
        (folder / f"photo-{n}.jpg").write_bytes(photo(n))
        head, sep, rest = story.read_text(encoding="utf-8").partition("\n---\n")
        extra = f"\nimage: images/photo-{n}.jpg\nimage_alt: Photo {n}"
        story.write_text(head + extra + sep + rest, encoding="utf-8")


def build(commsite: str, site: Path) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    done = subprocess.run([commsite, "build", str(site)], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"build failed:\n{done.stdout}{done.stderr}")
    record = json.loads((site / ".commsite" / "build-cache" / "last-build.json").read_text())
    return wall, record.get("images", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=500)
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--commsite", default=str(Path(sys.executable).parent / "commsite"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="commsite-images-"))
    try:
        plain = work / "plain"
        generate_site(plain, args.stories)
        with_images = work / "images"
        shutil.copytree(plain, with_images)
        add_images(with_images, args.images)
        times: dict[str, list[float]] = {"first": [], "second": [], "plain": []}
        counts: dict[str, dict[str, int]] = {}
        for _ in range(args.rounds):
            site = work / "run"
            shutil.rmtree(site, ignore_errors=True)
            shutil.copytree(with_images, site)
            wall, counts["first"] = build(args.commsite, site)
            times["first"].append(wall)
            story = sorted((site / "content" / "stories").glob("*.md"))[-1]
            story.write_text(story.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
            wall, counts["second"] = build(args.commsite, site)
            times["second"].append(wall)
            shutil.rmtree(site)
            shutil.copytree(plain, site)
            wall, _ = build(args.commsite, site)
            times["plain"].append(wall)
        for step, walls in times.items():
            shown = counts.get(step, {})
            print(f"{step:>7}: {statistics.median(walls):6.2f} s  {shown}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
