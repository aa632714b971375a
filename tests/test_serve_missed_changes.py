"""`commsite serve` trusts its watcher, then checks: a change no event reported
still reaches the preview; and it watches a theme kept outside the site. Real
watcher, real HTTP on loopback."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import commsite.themes
import pytest
import requests

from commsite.serve.preview import Preview, PreviewOptions
from editor_save import save

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
BUNDLED_BASE = Path(commsite.themes.__file__).parent / "default" / "templates" / "base.html"
STORIES = Path("content/stories")
WATCHED = STORIES / "2025-09-06-welcome-to-fixers-of-eastfield.md"
UNWATCHED = STORIES / "2025-10-04-how-we-run-a-repair-cafe.md"


def _wait_for(url: str, text: str) -> None:
    deadline = time.monotonic() + 15
    while text not in requests.get(url, timeout=5).text:
        assert time.monotonic() < deadline, f"{text!r} never showed at {url}"
        time.sleep(0.05)


def test_a_change_no_event_reported_reaches_the_preview(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("public", ".commsite"))
    # A story that is a link to a file in a folder of the site the preview does not
    # watch: the watcher hears nothing when that file changes (inotify watches the
    # folder, not the link's target); the build reads through the link (it stays
    # inside the site, so it is followed: see content/safe_files.py).
    target = site / "notes" / "elsewhere.md"
    target.parent.mkdir()
    shutil.move(site / UNWATCHED, target)
    (site / UNWATCHED).symlink_to(Path("../..") / "notes" / target.name)

    lines: list[str] = []
    preview = Preview(PreviewOptions(root=site, port=0), echo=lines.append)
    try:
        assert preview.build_all().ok
        preview.start_in_thread()
        target.write_text(
            target.read_text(encoding="utf-8").replace("People keep asking", "Folk keep asking", 1),
            encoding="utf-8",
        )
        # An edit the watcher does see: a rebuild that trusts the watcher's list.
        watched = site / WATCHED
        save(watched, watched.read_text(encoding="utf-8") + "\nSeen by the watcher.\n")
        _wait_for(preview.url + "stories/welcome-to-fixers-of-eastfield/", "Seen by the watcher.")
        # The check after it scans every input and builds again for the other.
        _wait_for(preview.url + "stories/how-we-run-a-repair-cafe/", "Folk keep asking")
    finally:
        preview.server.shutdown()
        preview.close()
    assert any(
        line.startswith("the watcher did not report 1 change(s) (2025-10-04-how-we-run")
        for line in lines
    ), lines


@pytest.mark.parametrize("folder", ["../mytheme", "mytheme"], ids=["beside the site", "in it"])
def test_a_theme_outside_the_site_is_watched_too(tmp_path: Path, folder: str) -> None:
    """A theme developed beside the site (`theme: ../mytheme`), or in a folder of
    the site that is not one of its watched folders (`theme: mytheme`): saving one
    of its templates rebuilds the preview as a save in the site does."""
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("public", ".commsite"))
    templates = site / folder / "templates"
    templates.mkdir(parents=True)
    base = templates / "base.html"
    shutil.copy(BUNDLED_BASE, base)
    with (site / "commsite.yaml").open("a", encoding="utf-8") as config:
        config.write(f"theme: {folder}\n")

    lines: list[str] = []
    preview = Preview(PreviewOptions(root=site, port=0), echo=lines.append)
    try:
        assert preview.build_all().ok, lines
        assert preview.watcher.outside == (templates.resolve(),)
        preview.start_in_thread()
        edited = base.read_text(encoding="utf-8").replace("</body>", "<p>From mytheme</p></body>")
        save(base, edited)
        _wait_for(preview.url, "From mytheme")
    finally:
        preview.server.shutdown()
        preview.close()
    assert any("base.html: rendered" in line for line in lines), lines
    assert not any(line.startswith("the watcher did not report") for line in lines), lines


def test_a_preview_of_an_unchanged_site_warms_up_in_the_background(tmp_path: Path) -> None:
    """A preview whose output is up to date (the same site on the same port)
    starts with the no-change shortcut, which loads nothing. It then loads and
    plans the site in the background (writing nothing), so that the first save
    rebuilds from warm memos too."""
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("public", ".commsite"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    first = Preview(PreviewOptions(root=site, port=port), echo=lambda line: None)
    assert first.build_all().ok and first.builder.warm
    first.builder.close()
    first.server.server_close()

    lines: list[str] = []
    preview = Preview(PreviewOptions(root=site, port=port), echo=lines.append)
    started = preview.build_all()
    warm_at_start = preview.builder.warm
    preview.start_in_thread()
    try:
        assert started.ok and started.rendered == () and not warm_at_start
        deadline = time.monotonic() + 15
        while not preview.builder.warm:
            assert time.monotonic() < deadline, "the preview never warmed up"
            time.sleep(0.05)
        watched = site / WATCHED
        save(watched, watched.read_text(encoding="utf-8") + "\nSaved once warm.\n")
        _wait_for(preview.url + "stories/welcome-to-fixers-of-eastfield/", "Saved once warm.")
    finally:
        preview.server.shutdown()
        preview.close()
    assert not any("caught up" in line for line in lines), lines
    builds = [line for line in lines if "rendered" in line]
    assert "full build: rendered 0, wrote 0" in builds[0]  # the shortcut
    assert builds[1:] and all(WATCHED.name + ":" in line for line in builds[1:])
