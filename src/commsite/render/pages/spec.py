"""What a page is (PageSpec), its lazily made context, and the memo of the last
plan's pages that a long-lived builder keeps (PageMemo)."""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping
from dataclasses import dataclass

from commsite.content.model import Site
from commsite.render.lookups import SiteIndex
from commsite.render.pages.reads import (
    QUERIES,
    SOURCES,
    Queries,
    Read,
    ReadValues,
    Recorded,
    SiteReads,
)
from commsite.render.topics import Topics

__all__ = ["Key", "LazyContext", "PageMemo", "PageSpec", "recorded_spec"]


@dataclass(frozen=True, slots=True)
class PageSpec:
    path: str  # a commsite.urls path: "stories/x/" is written as stories/x/index.html
    template: str
    context: Mapping[str, object]
    source: str | None = None  # the content file of the one item the page is about
    # What its page function read (reads.py), when it reads through a SiteReads
    reads: Recorded | None = None


class LazyContext(Mapping[str, object]):
    """A page's context, made the first time it is read: a build whose record shows
    that a page's inputs are unchanged never needs it (see build/page_outputs.py).

    `recording`: its page function reads the site through a SiteReads; `reads` is
    then what it read, once made (or once the build record vouched for the reads
    it recorded last time, see `vouch`)."""

    __slots__ = ("_made", "_make", "_page", "reads", "recording")

    def __init__(
        self, make: Callable[[], PageSpec], path: str, template: str, recording: bool = False
    ) -> None:
        self._make: Callable[[], PageSpec] | None = make
        self._made: Mapping[str, object] | None = None
        self._page = (path, template)
        self.recording = recording
        self.reads: Recorded | None = None

    def _context(self) -> Mapping[str, object]:
        if self._made is None:
            assert self._make is not None
            spec = self._make()
            if (spec.path, spec.template) != self._page:
                raise AssertionError(f"{self._page} planned, {spec.path, spec.template} made")
            self._made, self._make = spec.context, None
            if self.recording:
                self.reads = spec.reads if spec.reads is not None else ()
        return self._made

    def vouch(self, reads: Recorded) -> None:
        """The build record showed that these reads (with this site's values) give
        what they gave when the page was last made: keep them as the page's reads."""
        self.reads = reads

    def release(self) -> None:
        """Forget the made context (its reads stay). For a render worker, once the
        page is written: else each worker holds every context it made."""
        self._made = None

    def items(self) -> ItemsView[str, object]:
        return self._context().items()

    def __reduce__(self) -> tuple[type[dict[str, object]], tuple[dict[str, object]]]:
        return dict, (dict(self._context()),)  # a made context pickles as the dict it is

    def __getitem__(self, key: str) -> object:
        return self._context()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._context())

    def __len__(self) -> int:
        return len(self._context())

    def __repr__(self) -> str:
        return repr(self._context())


Key = tuple[object, ...]


class PageMemo:
    """The last plan's specs by path, each with the key it was made from (for a
    page whose function records its reads, the shared key: see `recorded`), and
    the reverse index of what those pages read.

    The index (`_readers`: read -> the paths of the pages that recorded it, and
    `_then`: what each read gave last plan) is how an edit finds its pages: at
    `begin`, each distinct read is asked once of the new site, and the pages that
    recorded a read whose answer differs are the ones `changed` names. A page
    not named keeps its spec without its reads being looked at (10,000 story
    pages on a rebuild in serve)."""

    def __init__(self, queries: Queries = QUERIES) -> None:
        self.queries = queries  # what its plans' ReadValues answer
        self._last: dict[str, tuple[Key, PageSpec]] = {}
        self._next: dict[str, tuple[Key, PageSpec]] = {}
        self._shared: Key = ()
        self.values: ReadValues | None = None  # this plan's answers to page reads
        self._readers: dict[Read, set[str]] = {}
        # query -> argument -> what the read gave last plan; query -> its source then
        self._then: dict[str, dict[str, object]] = {}
        self._sources: dict[str, object] = {}
        # recording pages given a new spec last plan, whose reads are not indexed yet
        self._pending: list[tuple[str, PageSpec]] = []
        # the same for other outputs that record their reads (build/document_reads.py)
        self._pending_reads: list[tuple[str, Recorded]] = []
        # this plan: the pages (and documents) whose reads may give other answers
        # (None: all)
        self.changed: set[str] | None = None
        # the last plan's story pages: (their slugs in order, their specs), see stories.py
        self.stories: tuple[tuple[str, ...], list[PageSpec]] | None = None

    def begin(self, shared: Key, site: Site, index: SiteIndex, topics: Topics) -> Key:
        """Start a plan of `site`; `shared` is what every page is made from (the
        config, the chrome, the members). Returns it, or the equal tuple of the last
        plan (so that keys holding it compare by identity)."""
        self._next = {}
        sources = {query: source(site, index) for query, (_, source) in SOURCES.items()}
        last, self._sources = self._sources, sources
        if shared != self._shared:
            self.values = ReadValues(site, index, topics, queries=self.queries)
            self._shared, self._last, self.stories = shared, {}, None
            self._readers, self._then, self._pending, self.changed = {}, {}, [], None
            self._pending_reads = []
            return self._shared
        # The story cards last plan made hold while what every page shares does.
        last_values = self.values
        if last_values is None:
            self.values = ReadValues(site, index, topics, queries=self.queries)
        else:
            cards, reprs = last_values.cards(), last_values.reprs
            self.values = ReadValues(site, index, topics, cards, reprs, self.queries)
        changed = self._index_pending()
        for query, answers in self._then.items():
            self._recheck(query, answers, sources.get(query, self), last.get(query, self), changed)
        self.changed = changed
        return self._shared

    def _recheck(
        self,
        query: str,
        answers: dict[str, object],
        source: object,
        last: object,
        changed: set[str],
    ) -> None:
        """Ask again the reads of `query` that may give another answer than last
        plan's (`answers`), noting in `changed` the pages that recorded one that does.
        With a source (queries.SOURCES: this plan's `source`, last plan's `last`),
        only the arguments whose entry changed are asked, or none when the source
        is equal to last plan's (a dict's == compares its entries in C, identity
        first: on a body edit the 10,000 neighbours are one comparison)."""
        arguments: Iterable[str] = answers
        if query in SOURCES and last is not self:
            if last is source or last == source:
                return
            if SOURCES[query][0] and isinstance(source, Mapping) and isinstance(last, Mapping):
                get, then = source.get, last.get
                arguments = [a for a in answers if _differs(get(a), then(a))]
        assert self.values is not None  # (begin made them)
        value = self.values.value
        readers = self._readers
        for argument in arguments:
            read = (query, argument)
            now = value(read)
            if _differs(now, answers[argument]):
                changed.update(readers.get(read, ()))
                answers[argument] = now

    def index(self, path: str, recorded: Recorded) -> None:
        """Put what the output at `path` read (a generated document made or kept)
        in the index at the next plan's `begin`, so that `changed` names it when a
        read gives another answer."""
        self._pending_reads.append((path, recorded))

    def _index_pending(self) -> set[str]:
        """Put the reads of last plan's new pages (and indexed documents) in the
        index; returns the paths of the pages whose reads are not known (their
        context was never made)."""
        unknown: set[str] = set()
        readers, then = self._readers, self._then
        found_reads: list[tuple[str, Recorded]] = self._pending_reads
        for path, spec in self._pending:
            context = spec.context
            reads = context.reads if isinstance(context, LazyContext) else None
            if reads is None:
                unknown.add(path)
            else:
                found_reads.append((path, reads))
        for path, reads in found_reads:
            for read, value in reads:
                found = readers.get(read)
                if found is None:
                    readers[read] = {path}
                    query, argument = read
                    answers = then.get(query)
                    if answers is None:
                        answers = then[query] = {}
                    answers[argument] = value
                else:
                    found.add(path)
        self._pending, self._pending_reads = [], []
        return unknown

    def recorded(
        self,
        path: str,
        template: str,
        make: Callable[[SiteReads], PageSpec],
        source: str | None = None,
        options: tuple[bool | int | str, ...] = (),
    ) -> PageSpec:
        """A page whose function reads the site through a SiteReads: last plan's
        spec for `path` if the shared key is equal and everything the function read
        gives what it gave then, else a new one (made when first read). `options`:
        plain values `make` is given besides what its path says (they are in the
        page's key, as the shared parts are)."""
        values = self.values
        assert values is not None, "begin() first"
        key = (self._shared, *options)
        found = self._last.get(path)
        if found is not None and found[0] == key:
            context = found[1].context
            changed = self.changed
            if (
                isinstance(context, LazyContext)
                and context.reads is not None
                and changed is not None
                and (path not in changed or values.hold(context.reads))
            ):
                self._next[path] = found
                return found[1]

        def made() -> PageSpec:
            return make(SiteReads(values))

        spec = PageSpec(path, template, LazyContext(made, path, template, recording=True), source)
        self._next[path] = (key, spec)
        self._pending.append((path, spec))
        return spec

    def keep(self, paths: Iterable[str]) -> None:
        """Keep last plan's specs for `paths` as they are (a caller that knows they
        are not among the `changed`)."""
        last = self._last
        self._next.update({path: last[path] for path in paths})

    def finish(self) -> None:
        self._last, self._next = self._next, {}

    def keys(self) -> Mapping[str, tuple[Key, PageSpec]]:
        """The finished plan's keys and specs by path (pages without a key are not in it)."""
        return self._last


def _differs(now: object, then: object) -> bool:
    """Whether two answers differ (most are the same object: an identity check
    first, as a dataclass's == compares its fields)."""
    return now is not then and now != then


def recorded_spec(reads: SiteReads, path: str, template: str, **context: object) -> PageSpec:
    """The spec of a page whose function read the site through `reads`: its context
    holds the chrome every page shows and `context`, and it carries what the
    function read. Call it last, once everything shown is read."""
    return PageSpec(path, template, {"chrome": reads.chrome, **context}, reads=reads.record())
