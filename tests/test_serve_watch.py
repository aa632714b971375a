"""The preview's watcher on a real folder: which paths one save turns into."""

from __future__ import annotations

import queue
from pathlib import Path

from commsite.serve.watch import SiteWatcher
from editor_save import save


def test_a_save_reaches_the_builder_as_its_file_alone(tmp_path: Path) -> None:
    stories = tmp_path / "content" / "stories"
    stories.mkdir(parents=True)
    (tmp_path / "static").mkdir()
    bursts: queue.Queue[set[Path]] = queue.Queue()
    watcher = SiteWatcher(tmp_path, bursts.put)
    watcher.start()
    try:
        story = stories / "2026-01-01-a.md"
        save(story, "---\ntitle: A\ndate: 2026-01-01\n---\nHello.\n")
        seen = bursts.get(timeout=10)
        # A second save elsewhere: whatever the first one caused reaches the
        # watcher before this one's events, so all of it is in hand once this
        # file has arrived.
        sentinel = tmp_path / "static" / "x.css"
        save(sentinel, "p {}\n")
        while sentinel.resolve() not in seen:
            seen |= bursts.get(timeout=10)
    finally:
        watcher.stop()
    # Neither the temporary file nor the folders (whose modification time the
    # rename changed) are news to the builder.
    assert seen == {story.resolve(), sentinel.resolve()}
