"""A local fediverse peer finds the community through `commsite serve`.

Fedify (an independent ActivityPub implementation, on Node) asks the preview
server's WebFinger about the actor, then reads the actor, its outbox and a story
object, all with their real content types, from the real `commsite serve`.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path

import needs
from cli_process import free_port, start, stop

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
SCRIPT = Path(__file__).resolve().parent / "js" / "fedify-serve-lookup.mjs"


def test_fedify_looks_the_community_up_through_the_preview(tmp_path: Path) -> None:
    needs.node_package("@fedify/fedify")
    node = needs.executable("node")
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("public", ".commsite"))
    port = free_port()
    process, _ = start(["serve", str(site), "--port", str(port)], "Serving")
    try:
        base = f"http://127.0.0.1:{port}/"
        actor_url = base + "ap/actor"
        story_url = base + "ap/stories/welcome-to-fixers-of-eastfield"
        run = subprocess.run(
            [node, str(SCRIPT), actor_url, story_url],
            cwd=SCRIPT.parent,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        stop(process, signal.SIGINT)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["webfinger"] == {
        "subject": f"acct:fixers@127.0.0.1:{port}",
        "self": [["application/activity+json", actor_url]],
    }, run.stderr
    assert result["actor"] == {
        "type": "Group",
        "id": actor_url,
        "preferredUsername": "fixers",
        "keyOwner": actor_url,
    }
    assert result["outboxItems"] and set(result["outboxItems"]) == {"Create"}
    assert result["story"] == {"type": "Note", "id": story_url}
