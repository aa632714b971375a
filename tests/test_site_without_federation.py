"""A whole build of a site that does not federate (no public key): no welcome
wall, no link to it, no sitemap entry for it."""

from __future__ import annotations

import shutil
from pathlib import Path

from commsite.build.run import BuildOptions, build_site
from golden.regenerate import SITE, golden_now


def test_site_without_a_key_has_no_welcome_wall(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    (root / "federation" / "public-key.pem").unlink()
    out = tmp_path / "public"
    result = build_site(BuildOptions(root=root, output=out, cache=False, jobs=1), now=golden_now())
    assert result.ok, [d.format() for d in result.diagnostics]
    assert (out / "index.html").is_file()
    assert not (out / "welcome").exists()
    assert b"golden.example/welcome/" not in (out / "sitemap.xml").read_bytes()
    for page in out.rglob("*.html"):
        assert 'href="/welcome/"' not in page.read_text(encoding="utf-8"), page
