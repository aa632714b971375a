"""The YAML list files of interactions/: reactions.yaml and rsvps/SLUG.yaml.

interactions/reactions.yaml maps each post to its counts and, from exports
that record them, who reacted::

    stories/plans-for-the-winter:
      likes: 3
      boosts: 2
      by:                      # optional; older exports have counts only
      - kind: like             # like | boost
        author_name: Ada Okafor
        author_handle: '@ada@social.example'
        author_url: https://social.example/@ada
        author_actor: https://social.example/users/ada        # optional
        author_webfinger: ada@social.example                  # optional (FEP-2c59)
        author_avatar: https://social.example/avatars/ada.png # optional

interactions/rsvps/SLUG.yaml holds the answers to the event SLUG, one entry
per person (a later answer, or an Undo, replaced the earlier one in the
sidecar), oldest answer first::

    - author_name: Ada Okafor
      author_handle: '@ada@social.example'
      author_url: https://social.example/@ada
      author_actor: https://social.example/users/ada        # optional
      author_webfinger: ada@social.example                  # optional
      author_avatar: https://social.example/avatars/ada.png # optional
      answer: going          # going | maybe | not_going
      via: reply             # reply | poll | join | accept | tentative | reject
      waiting: false         # going, but beyond capacity: on the waiting list
      public: true           # answered in a public reply: the page may name them
      reply_url: https://social.example/@ada/110      # optional, the public reply
      answered: '2027-03-01T10:00:00+00:00'

Both are untrusted input (see interaction_fields): an entry with a problem is
left out with a Diagnostic at its line; the rest still load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from commsite.content.interaction_fields import (
    address_field,
    flag_field,
    read_interaction_file,
    text_field,
    when_field,
)
from commsite.content.model import RSVP_ANSWERS, RSVP_WAYS, Reaction, Reactor, Rsvp
from commsite.content.yamltext import YamlDocument, parse_yaml
from commsite.errors import Diagnostic

__all__ = ["REACTION_KINDS", "RSVPS_DIR", "load_reactions", "load_rsvps"]

RSVPS_DIR = "rsvps"
REACTION_KINDS = ("like", "boost")
_TARGET_KINDS = ("stories", "events")


def _read(root: Path, rel: str) -> tuple[YamlDocument | None, list[Diagnostic]]:
    text, unreadable = read_interaction_file(root, rel)
    if text is None:
        return None, unreadable
    doc, invalid = parse_yaml(text, rel, 1)
    return doc, [invalid] if invalid else []


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _items(node: yaml.Node | None) -> list[yaml.Node | None]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _value_nodes(node: yaml.Node | None) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): v for k, v in node.value}


def _author(
    entry: Mapping[str, object], problems: list[str]
) -> tuple[str | None, str | None, str | None, str | None, str | None, str | None]:
    return (
        text_field(entry, "author_name", True, problems),
        text_field(entry, "author_handle", True, problems),
        address_field(entry, "author_url", True, problems),
        address_field(entry, "author_actor", False, problems),
        text_field(entry, "author_webfinger", False, problems),
        address_field(entry, "author_avatar", False, problems),
    )


def _reactor(entry: object, problems: list[str]) -> Reactor | None:
    if not isinstance(entry, dict):
        problems.append("each entry of 'by' must be a mapping with kind and author_* keys")
        return None
    kind = text_field(entry, "kind", True, problems)
    if kind is not None and kind not in REACTION_KINDS:
        problems.append(f"'kind' must be 'like' or 'boost' (got {kind!r})")
    name, handle, url, actor, webfinger, avatar = _author(entry, problems)
    if problems:
        return None
    assert kind and name and handle and url
    return Reactor(kind, name, handle, url, actor, webfinger, avatar)


def load_reactions(root: Path, rel: str) -> tuple[list[Reaction], list[Diagnostic]]:
    doc, diagnostics = _read(root, rel)
    if doc is None or doc.data is None:
        return [], diagnostics
    data: Any = doc.data
    if not isinstance(data, dict):
        return [], [Diagnostic(rel, 1, "must map each target to its likes and boosts")]
    nodes = _value_nodes(doc.node)
    key_lines = (
        {str(k.value): _line(k) for k, _ in doc.node.value}
        if isinstance(doc.node, yaml.MappingNode)
        else {}
    )
    reactions: list[Reaction] = []
    for target, counts in sorted(data.items(), key=lambda kv: str(kv[0])):
        if (
            not isinstance(target, str)
            or target.split("/", 1)[0] not in _TARGET_KINDS
            or not isinstance(counts, dict)
            or not all(isinstance(counts.get(k, 0), int) for k in ("likes", "boosts"))
        ):
            diagnostics.append(
                Diagnostic(
                    rel,
                    key_lines.get(str(target)),
                    f"bad entry {target!r}",
                    hint="write 'stories/SLUG: {likes: N, boosts: N}'",
                )
            )
            continue
        by_nodes = _items(_value_nodes(nodes.get(target)).get("by"))
        by_value = counts.get("by") or []
        if not isinstance(by_value, list):
            diagnostics.append(
                Diagnostic(rel, key_lines.get(target), f"'by' of {target} must be a list")
            )
            by_value = []
        by: list[Reactor] = []
        for n, entry in enumerate(by_value):
            problems: list[str] = []
            reactor = _reactor(entry, problems)
            line = _line(by_nodes[n]) if n < len(by_nodes) else key_lines.get(target)
            diagnostics.extend(
                Diagnostic(rel, line, f"{target}, who reacted: {p}") for p in problems
            )
            if reactor is not None:
                by.append(reactor)
        reactions.append(
            Reaction(
                target=target,
                likes=max(0, int(counts.get("likes", 0))),
                boosts=max(0, int(counts.get("boosts", 0))),
                by=tuple(by),
            )
        )
    return reactions, diagnostics


def _rsvp(entry: object, event: str, rel: str, problems: list[str]) -> Rsvp | None:
    if not isinstance(entry, dict):
        problems.append("each answer must be a mapping with author_* keys and 'answer'")
        return None
    name, handle, url, actor, webfinger, avatar = _author(entry, problems)
    answer = text_field(entry, "answer", True, problems)
    if answer is not None and answer not in RSVP_ANSWERS:
        problems.append(f"'answer' must be one of {', '.join(RSVP_ANSWERS)} (got {answer!r})")
    via = text_field(entry, "via", False, problems) or "reply"
    if via not in RSVP_WAYS:
        problems.append(f"'via' must be one of {', '.join(RSVP_WAYS)} (got {via!r})")
    answered = when_field(entry, "answered", True, problems)
    waiting = flag_field(entry, "waiting", problems)
    public = flag_field(entry, "public", problems)
    reply_url = address_field(entry, "reply_url", False, problems)
    if problems:
        return None
    assert name and handle and url and answer and answered
    return Rsvp(
        event=event,
        answer=answer,
        author_name=name,
        author_handle=handle,
        author_url=url,
        answered=answered,
        source=rel,
        via=via,
        waiting=waiting and answer == "going",
        public=public,
        author_actor=actor,
        author_webfinger=webfinger,
        author_avatar=avatar,
        reply_url=reply_url,
    )


def load_rsvps(root: Path, files: Iterable[str]) -> tuple[list[Rsvp], list[Diagnostic]]:
    """The answers in each interactions/rsvps/SLUG.yaml of `files` (paths relative
    to the site). A file names its event; whether that event exists is the
    site checks' business, not this loader's."""
    rsvps: list[Rsvp] = []
    diagnostics: list[Diagnostic] = []
    for rel in files:
        event = rel.rsplit("/", 1)[-1].removesuffix(".yaml")
        if not event or event.startswith("."):
            diagnostics.append(
                Diagnostic(
                    rel,
                    None,
                    f"'{event}' is not an event id",
                    hint="name the file after the event: interactions/rsvps/EVENT-ID.yaml",
                )
            )
            continue
        doc, problems_here = _read(root, rel)
        diagnostics.extend(problems_here)
        if doc is None or doc.data is None:
            continue
        if not isinstance(doc.data, list):
            diagnostics.append(
                Diagnostic(rel, 1, "must be a list of answers, one '- author_name: ...' each")
            )
            continue
        nodes = _items(doc.node)
        seen: dict[str, int | None] = {}
        for n, entry in enumerate(doc.data):
            line = _line(nodes[n]) if n < len(nodes) else None
            problems: list[str] = []
            rsvp = _rsvp(entry, event, rel, problems)
            diagnostics.extend(Diagnostic(rel, line, p) for p in problems)
            if rsvp is None:
                continue
            person = (rsvp.author_actor or rsvp.author_handle).lower()
            if person in seen:
                diagnostics.append(
                    Diagnostic(
                        rel,
                        line,
                        f"a second answer from {rsvp.author_handle} (first at line {seen[person]})",
                        hint="keep one answer per person",
                    )
                )
                continue
            seen[person] = line
            rsvps.append(rsvp)
    rsvps.sort(key=lambda r: (r.event, r.answered, r.author_handle))
    return rsvps, diagnostics
