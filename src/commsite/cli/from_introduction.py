"""`commsite new member --from-introduction REF`: find the introduction REF names.

REF is, in the order tried:

* a file: an exported introduction (interactions/introductions/NAME.md, or a
  copy anywhere), for an organiser who does not run the sidecar here;
* NAME, the file's name in the site's interactions/introductions/ (with or
  without .md);
* N or #N, the number `commsite moderate` shows, read from the sidecar's store
  (opened read-only: a content command never creates or migrates it);
* the introduction's ActivityPub id, in the store, else among the exported files.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from commsite.content.config_loader import load_config
from commsite.content.interactions import (
    INTERACTIONS_DIR,
    INTRODUCTIONS_DIR,
    _load_item,
    load_interactions,
)
from commsite.content.model import Introduction
from commsite.content.newcomer import NewcomerIntroduction
from commsite.database import DATABASE_ERRORS, Row, Target, connect_readonly, describe, store_target
from commsite.datadir import DataDir
from commsite.sidecar.welcome import plain_name

__all__ = ["find_newcomer"]


def _from_model(intro: Introduction, tz: ZoneInfo, source: str) -> NewcomerIntroduction:
    return NewcomerIntroduction(
        name=plain_name(intro.author_name) or intro.author_handle,
        handle=intro.author_webfinger or intro.author_handle,
        tags=intro.tags,
        content_html=intro.content_html,
        published=intro.published.astimezone(tz).date(),
        source=source,
    )


def _from_file(path: Path, tz: ZoneInfo) -> NewcomerIntroduction:
    item, diagnostics = _load_item(path.parent, path.name)
    if item is None:
        problems = "; ".join(d.format() for d in diagnostics) or "it is not an introduction"
        raise click.ClickException(f"cannot read {path}: {problems}")
    if not isinstance(item, Introduction):
        raise click.ClickException(f"{path} is a reply, not an introduction")
    return _from_model(item, tz, str(path))


def _store_row(database: Target, column: str, value: object) -> Row | None:
    where = describe(database)
    try:
        conn = connect_readonly(database)
    except DATABASE_ERRORS as exc:
        raise click.ClickException(f"cannot open the sidecar's store {where}: {exc}") from None
    if conn is None:
        return None
    try:
        row: Row | None = conn.execute(
            "SELECT i.seq, i.ap_id, i.actor, i.tags, i.content_html, i.published, i.status,"
            " a.handle, a.webfinger, a.name FROM inbox_items i"
            f" LEFT JOIN inbox_actors a ON a.id = i.actor WHERE i.{column} = ?"
            " AND i.kind = 'introduction'",
            (value,),
        ).fetchone()
    except DATABASE_ERRORS as exc:
        raise click.ClickException(f"cannot read the sidecar's store {where}: {exc}") from None
    finally:
        conn.close()
    return row


def _from_row(row: Row, tz: ZoneInfo) -> NewcomerIntroduction:
    if row["status"] == "rejected":
        raise click.ClickException(f"introduction #{row['seq']} was rejected")
    handle = row["webfinger"] or row["handle"]
    try:
        published = datetime.fromisoformat(row["published"]).astimezone(tz).date()
    except (TypeError, ValueError):
        published = datetime.now(tz).date()
    tags = json.loads(row["tags"] or "[]")
    return NewcomerIntroduction(
        name=plain_name(row["name"] or "") or handle or row["actor"],
        handle=handle,
        tags=tuple(t for t in tags if isinstance(t, str)),
        content_html=row["content_html"],
        published=published,
        source=f"#{row['seq']} in the sidecar's store",
    )


def find_newcomer(site: Path, ref: str, tz: ZoneInfo) -> NewcomerIntroduction:
    """The introduction REF names (see the module's docstring), or a ClickException."""
    text = ref.strip()
    exported = site / INTERACTIONS_DIR / INTRODUCTIONS_DIR
    for candidate in (Path(text), exported / text, exported / f"{text}.md"):
        if text and candidate.is_file():
            return _from_file(candidate, tz)
    config, _ = load_config(site)
    data_dir = DataDir.for_site(site, config.sidecar.data_dir if config else ".commsite")
    database = store_target(data_dir, config.sidecar) if config else data_dir.database
    missing = isinstance(database, Path) and not database.is_file()
    number = text.removeprefix("#")
    if number.isdigit():
        if missing:
            raise click.ClickException(
                f"no sidecar store at {database}, so introduction #{number} cannot be looked"
                f" up; pass its exported file instead ({INTERACTIONS_DIR}/{INTRODUCTIONS_DIR}/"
                "NAME.md, written by `commsite interactions export`)"
            )
        row = _store_row(database, "seq", int(number))
        if row is None:
            raise click.ClickException(
                f"no introduction #{number} in the sidecar's store; see `commsite moderate list`"
                " and `commsite moderate welcome`"
            )
        return _from_row(row, tz)
    if text.startswith(("https://", "http://")):
        if not missing and (row := _store_row(database, "ap_id", text)) is not None:
            return _from_row(row, tz)
        interactions, _ = load_interactions(site)
        for intro in interactions.introductions:
            if intro.id == text:
                return _from_model(intro, tz, intro.source)
    raise click.ClickException(
        f"no introduction {ref!r}: give its number from `commsite moderate`, its id, or its"
        f" file in {INTERACTIONS_DIR}/{INTRODUCTIONS_DIR}/"
    )
