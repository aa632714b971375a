"""The feeds and the calendars: documents made from a few parts of the site.

Each group of documents is made from a known part of the site (its `key`):

* the feeds (Atom, JSON Feed) and robots.txt: the config, the newest public
  stories and the members (authors' names);
* the calendars (events.ics and each event's own .ics): the config and the
  events;
* the sitemap (a group build.plan makes once the pages are planned): the
  config, the pages' paths and each story's lastmod.

So editing a story never remakes the calendars, and editing an event never
remakes the feeds. A group is not made at all when a long-lived builder's memo
holds it for an equal key, or when the build record shows its files were made
from equal inputs (a digest of the key); then its files are made only if one of
them must be written again (gone from the output, or changed there). Within the
calendars, a long-lived builder remakes only the changed events' own files.

Making the calendars of 500 events takes about a second (icalendar), which is
why the groups matter: a one-story edit of a 10,000-story site that remade them
took 1.1 s in `commsite serve`'s builder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

from commsite import urls
from commsite.build.cache import RecordEntry
from commsite.build.memo import BuildMemo
from commsite.build.pagekeys import KeyDigests
from commsite.build.parallel import Background, submit
from commsite.content.model import Event, Site
from commsite.feeds.atom import atom_feed
from commsite.feeds.calendar import event_calendar, events_calendar
from commsite.feeds.jsonfeed import json_feed
from commsite.feeds.links import FEED_ITEMS, public_stories
from commsite.feeds.sitemap import robots

__all__ = ["Group", "Made", "SiteDocuments", "document_groups"]

# Memo name: slug -> (the event, its own calendar's bytes), for the config in the key.
EVENT_CALENDARS = "event-calendars"

Made = dict[str, bytes]

# From this weight on, the groups to make are made in a forked worker.
PARALLEL_WEIGHT = 100


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    key: tuple[object, ...]  # what its documents are made from
    make: Callable[[], Made]
    # About how many items making it costs 1 ms or more each: a worker is forked
    # (about 25 ms for a big site's process) only for groups worth it.
    weight: int = 0
    # The digest of what it is made from, when one cheaper than KeyDigests' of
    # `key` is known (it must cover commsite's code too).
    digest: Callable[[], bytes] | None = None


def document_groups(site: Site, memo: BuildMemo | None = None) -> list[Group]:
    """The groups of documents of `site`. With a long-lived builder's `memo`, the
    calendars reuse the own calendar of each event equal to last time's."""
    last: object = memo.last(EVENT_CALENDARS, (site.config,)) if memo is not None else None
    previous = last if isinstance(last, dict) else {}
    return [
        Group(
            "feeds",
            (site.config, public_stories(site)[:FEED_ITEMS], site.members),
            partial(_feeds, site),
        ),
        Group(
            "calendars",
            (site.config, site.events),
            partial(_calendars, site, previous),
            # events.ics is remade whole; each event's own calendar when it changed
            weight=len(site.events) + sum(not _same(previous, e) for e in site.events),
        ),
    ]


def _feeds(site: Site) -> Made:
    return {
        urls.FEED_ATOM: atom_feed(site),
        urls.FEED_JSON: json_feed(site),
        urls.ROBOTS: robots(site),
    }


def _calendars(site: Site, previous: Mapping[str, tuple[Event, bytes]]) -> Made:
    """events.ics, and each event's own calendar (reused from `previous` for an
    event equal to the one it was made from)."""
    made: Made = {urls.EVENTS_ICS: events_calendar(site)}
    for event in site.events:
        own = previous[event.slug][1] if _same(previous, event) else event_calendar(site, event)
        made[urls.event_ics(event.slug)] = own
    return made


def _same(previous: Mapping[str, tuple[Event, bytes]], event: Event) -> bool:
    """Whether `previous` holds the own calendar of an event equal to `event`."""
    last = previous.get(event.slug)
    return last is not None and last[0] == event


def _make_all(groups: list[Group]) -> list[Made]:
    return [group.make() for group in groups]


@dataclass(frozen=True, slots=True)
class _Kept:
    """What a long-lived builder's memo keeps of a group, for an equal key: its
    inputs digest, and its documents or the record's fingerprints of its files."""

    inputs: bytes
    documents: Made | None
    recorded: Mapping[str, bytes]


@dataclass(slots=True)
class _State:
    group: Group
    inputs: bytes = b""  # a digest of its key, stored in the record with its files
    kept: Made | None = None  # the memo's, for an equal key
    recorded: dict[str, bytes] = field(default_factory=dict)  # path -> recorded fingerprint


class SiteDocuments:
    """The groups' documents in one plan: `start` before the pages are planned
    (on a big site, the groups to make are made in a forked worker meanwhile),
    then `made` and `recorded`."""

    def __init__(
        self,
        groups: list[Group],
        keys: KeyDigests,
        memo: BuildMemo | None,
        record: Mapping[str, RecordEntry] | None,
    ) -> None:
        self._memo = memo
        self._states: list[_State] = []
        for group in groups:
            state = _State(group)
            found = memo.last(group.name, group.key) if memo is not None else None
            if isinstance(found, _Kept):  # no digest to make, no record to look through
                state.inputs, state.kept, state.recorded = (
                    found.inputs,
                    found.documents,
                    dict(found.recorded),
                )
            elif group.digest is not None:
                state.inputs = group.digest()
            else:
                state.inputs = keys.digest(group.key, group.name.encode())
            self._states.append(state)
        wanted = {s.inputs: s for s in self._states if s.kept is None and not s.recorded}
        if record is not None and wanted:
            for path, entry in record.items():
                vouched = wanted.get(entry.inputs)
                if vouched is not None:
                    vouched.recorded[path] = entry.fingerprint
        if memo is not None:
            for state in wanted.values():
                if state.recorded:
                    memo.keep(
                        state.group.name, state.group.key, _Kept(state.inputs, None, state.recorded)
                    )
        self._to_make = [s for s in self._states if s.kept is None and not s.recorded]
        self._background: Background[list[Made]] | None = None
        self._later: dict[str, Made] = {}

    def start(self) -> None:
        """Start making the groups neither kept nor recorded, in a forked worker
        when they weigh enough (and forking is possible)."""
        if sum(s.group.weight for s in self._to_make) >= PARALLEL_WEIGHT:
            self._background = submit(_make_all, [s.group for s in self._to_make])

    def made(self) -> list[tuple[Made, bytes]]:
        """(documents, inputs digest) of each group kept or made now."""
        groups = [s.group for s in self._to_make]
        new = self._background.result() if self._background is not None else _make_all(groups)
        for state, documents in zip(self._to_make, new, strict=True):
            state.kept = documents
            self._keep(state)
        return [(s.kept, s.inputs) for s in self._states if s.kept is not None]

    def recorded(self) -> list[tuple[str, bytes, bytes, Callable[[], bytes]]]:
        """(path, recorded fingerprint, inputs digest, what makes the bytes if they
        must be written) of each file of the groups the record vouches for."""
        return [
            (path, fingerprint, s.inputs, partial(self._later_get, s.group, path))
            for s in self._states
            if s.kept is None
            for path, fingerprint in s.recorded.items()
        ]

    def _later_get(self, group: Group, path: str) -> bytes:
        documents = self._later.get(group.name)
        if documents is None:
            documents = self._later[group.name] = group.make()
        return documents[path]

    def _keep(self, state: _State) -> None:
        memo, group, documents = self._memo, state.group, state.kept
        if memo is None or documents is None:
            return
        memo.keep(group.name, group.key, _Kept(state.inputs, documents, {}))
        if group.name == "calendars":
            site_config, events = group.key
            assert isinstance(events, tuple)
            memo.keep(
                EVENT_CALENDARS,
                (site_config,),
                {e.slug: (e, documents[urls.event_ics(e.slug)]) for e in events},
            )
