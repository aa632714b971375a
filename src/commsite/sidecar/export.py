"""`commsite interactions export`: approved interactions -> reviewable files in interactions/.

One file per reply or introduction, named by a hash of its ActivityPub id, so
names never change; reactions.yaml with the counts and who reacted (`by:`);
one rsvps/SLUG.yaml per event with approved answers. Bytes are deterministic
(same database, same files), a file is rewritten only when its bytes change,
and files of items that were deleted, rejected or purged (an event nobody
answers any more) are removed. The layout and the fields are those
`commsite.content.interactions` and `commsite.content.interaction_lists` load
(see there).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from commsite.content.interaction_lists import RSVPS_DIR
from commsite.content.interactions import (
    INTERACTIONS_DIR,
    INTRODUCTIONS_DIR,
    REACTIONS_FILE,
    REPLIES_DIR,
    sanitize_html,
)
from commsite.database import Row
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


def render_item(row: Row) -> str:
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


def _author(row: Row) -> dict[str, Any]:
    """The author_* fields of an entry, from the actor's cached profile."""
    author: dict[str, Any] = {
        "author_name": row["name"] or row["handle"] or row["actor"],
        "author_handle": row["handle"] or row["actor"],
        "author_url": row["author_url"] or row["actor"],
        "author_actor": row["actor"],
    }
    if row["webfinger"]:
        author["author_webfinger"] = row["webfinger"]
    if row["avatar"]:
        author["author_avatar"] = row["avatar"]
    return author


_ACTOR_COLUMNS = "a.name, a.handle, a.url AS author_url, a.avatar, a.webfinger"


def _reactions(store: Store) -> dict[str, dict[str, Any]]:
    """reactions.yaml: per post its counts (one per person and kind) and who."""
    reactions: dict[str, dict[str, Any]] = {}
    rows = store.conn.execute(
        f"SELECT r.target, r.kind, r.actor, {_ACTOR_COLUMNS} FROM inbox_reactions r"
        " LEFT JOIN inbox_actors a ON a.id = r.actor"
        " ORDER BY r.target, r.kind, COALESCE(a.handle, r.actor), r.actor"
    ).fetchall()
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        key = (row["target"], row["kind"], row["actor"])
        if key in seen:
            continue
        seen.add(key)
        entry = reactions.setdefault(row["target"], {"likes": 0, "boosts": 0, "by": []})
        entry[f"{row['kind']}s"] += 1
        entry["by"].append({"kind": row["kind"], **_author(row)})
    return reactions


def _rsvps(store: Store) -> dict[str, list[dict[str, Any]]]:
    """rsvps/SLUG.yaml: the approved answers to each event, oldest first."""
    answers: dict[str, list[dict[str, Any]]] = {}
    rows = store.conn.execute(
        f"SELECT r.*, {_ACTOR_COLUMNS} FROM rsvps r LEFT JOIN inbox_actors a ON a.id = r.actor"
        " WHERE r.status = 'approved'"
        " ORDER BY r.event, r.answered_at, COALESCE(a.handle, r.actor), r.actor"
    ).fetchall()
    for row in rows:
        entry = _author(row)
        entry["answer"] = row["answer"]
        entry["via"] = row["via"]
        entry["waiting"] = bool(row["waiting"]) and row["answer"] == "going"
        entry["public"] = bool(row["public"])
        if row["reply_url"]:
            entry["reply_url"] = row["reply_url"]
        entry["answered"] = row["answered_at"]
        answers.setdefault(row["event"], []).append(entry)
    return answers


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

    reactions_rel = f"{INTERACTIONS_DIR}/{REACTIONS_FILE}"
    reactions = _reactions(store)
    if reactions:
        expected.add(reactions_rel)
        if _write(root / reactions_rel, _dump(reactions)):
            result.written.append(reactions_rel)
        else:
            result.unchanged += 1

    for event, answers in _rsvps(store).items():
        rel = f"{INTERACTIONS_DIR}/{RSVPS_DIR}/{event}.yaml"
        expected.add(rel)
        if _write(root / rel, _dump(answers)):
            result.written.append(rel)
        else:
            result.unchanged += 1

    base = root / INTERACTIONS_DIR
    stale = [
        *(base / REPLIES_DIR).rglob("*.md"),
        *(base / INTRODUCTIONS_DIR).glob("*.md"),
        *(base / RSVPS_DIR).glob("*.yaml"),
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
    rsvps_dir = base / RSVPS_DIR
    if rsvps_dir.is_dir() and not any(rsvps_dir.iterdir()):
        rsvps_dir.rmdir()
    result.written.sort()
    result.removed.sort()
    return result
