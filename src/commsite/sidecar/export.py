"""`commsite interactions export`: approved interactions -> reviewable files in interactions/.

One file per reply or introduction, named by a hash of its ActivityPub id, so
names never change; bytes are deterministic (same database, same files), a
file is rewritten only when its bytes change, and files of items that were
deleted, rejected or purged are removed. The layout and the fields are those
`commsite.content.interactions` loads (see there).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from commsite.content.interactions import (
    INTERACTIONS_DIR,
    INTRODUCTIONS_DIR,
    REACTIONS_FILE,
    REPLIES_DIR,
    sanitize_html,
)
from commsite.sidecar.store import Store

__all__ = ["ExportResult", "export_interactions", "item_path"]


@dataclass(slots=True)
class ExportResult:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0


def item_path(kind: str, ap_id: str, target: str | None) -> str:
    """The file of an item, relative to the site root."""
    name = hashlib.sha1(ap_id.encode("utf-8")).hexdigest()[:12] + ".md"
    if kind == "reply":
        assert target
        return f"{INTERACTIONS_DIR}/{REPLIES_DIR}/{target}/{name}"
    return f"{INTERACTIONS_DIR}/{INTRODUCTIONS_DIR}/{name}"


def _dump(data: Any) -> str:
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100_000
    )


def render_item(row: sqlite3.Row) -> str:
    meta: dict[str, Any] = {"id": row["ap_id"], "kind": row["kind"]}
    if row["kind"] == "reply":
        meta["target"] = row["target"]
        meta["in_reply_to"] = row["in_reply_to"]
    meta["author_name"] = row["name"] or row["handle"] or row["actor"]
    meta["author_handle"] = row["handle"] or row["actor"]
    meta["author_url"] = row["author_url"] or row["actor"]
    # What the site matches members by (content/member_match.py): the actor's
    # URL, and its FEP-2c59 handle when the sidecar trusted one.
    meta["author_actor"] = row["actor"]
    if row["webfinger"]:
        meta["author_webfinger"] = row["webfinger"]
    optional = {
        "author_avatar": row["avatar"],
        "published": row["published"],
        "updated": row["updated"],
        "url": row["url"],
        "summary": row["summary"] or None,
    }
    meta.update({k: v for k, v in optional.items() if v is not None})
    meta["sensitive"] = bool(row["sensitive"])
    tags = json.loads(row["tags"] or "[]")
    if tags:
        meta["tags"] = tags
    body = sanitize_html(row["content_html"]).strip()
    return f"---\n{_dump(meta)}---\n{body}\n"


def _write(path: Path, text: str) -> bool:
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def export_interactions(store: Store, root: Path) -> ExportResult:
    result = ExportResult()
    rows = store.conn.execute(
        "SELECT i.*, a.name, a.handle, a.url AS author_url, a.avatar, a.webfinger"
        " FROM inbox_items i LEFT JOIN inbox_actors a ON a.id = i.actor"
        " WHERE i.status = 'approved' AND i.kind IN ('reply', 'introduction')"
        " ORDER BY i.ap_id"
    ).fetchall()
    expected: set[str] = set()
    for row in rows:
        rel = item_path(row["kind"], row["ap_id"], row["target"])
        expected.add(rel)
        if _write(root / rel, render_item(row)):
            result.written.append(rel)
        else:
            result.unchanged += 1

    counts: dict[str, dict[str, int]] = {}
    for target, kind, n in store.conn.execute(
        "SELECT target, kind, COUNT(DISTINCT actor) FROM inbox_reactions GROUP BY target, kind"
    ):
        counts.setdefault(target, {"likes": 0, "boosts": 0})[f"{kind}s"] = int(n)
    reactions_rel = f"{INTERACTIONS_DIR}/{REACTIONS_FILE}"
    if counts:
        expected.add(reactions_rel)
        text = _dump({t: counts[t] for t in sorted(counts)})
        if _write(root / reactions_rel, text):
            result.written.append(reactions_rel)
        else:
            result.unchanged += 1

    base = root / INTERACTIONS_DIR
    stale = [
        *(base / REPLIES_DIR).rglob("*.md"),
        *(base / INTRODUCTIONS_DIR).glob("*.md"),
        base / REACTIONS_FILE,
    ]
    for file in sorted(stale):
        rel = file.relative_to(root).as_posix()
        if file.is_file() and rel not in expected:
            file.unlink()
            result.removed.append(rel)
    for directory in sorted((base / REPLIES_DIR).rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    result.written.sort()
    result.removed.sort()
    return result
