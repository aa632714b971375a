"""What a page is (PageSpec), its lazily made context, and the memo of the last
plan's pages that a long-lived builder keeps (PageMemo)."""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, Mapping
from dataclasses import dataclass

from commsite.content.model import Site, Story
from commsite.render.lookups import CardMemo, SiteIndex
from commsite.render.pages.reads import ReadValues, Recorded, SiteReads
from commsite.render.topics import Topics

__all__ = ["Key", "LazyContext", "PageMemo", "PageSpec", "page_spec", "recorded_spec"]


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
    that a page's inputs are unchanged never needs it (see build/plan.py).

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
    page whose function records its reads, the shared key: see `recorded`)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[Key, PageSpec]] = {}
        self._next: dict[str, tuple[Key, PageSpec]] = {}
        self.cards = CardMemo()  # story cards, kept while their stories are
        self._shared: Key = ()
        # The last plan's story pages: its stories, what else their keys read
        # (see stories.story_pages), their keys and specs by path, and the specs in order.
        self._stories: (
            tuple[tuple[Story, ...], Key, dict[str, tuple[Key, PageSpec]], list[PageSpec]] | None
        ) = None
        self.values: ReadValues | None = None  # this plan's answers to page reads

    def begin(self, shared: Key, site: Site, index: SiteIndex, topics: Topics) -> Key:
        """Start a plan of `site`; `shared` is what every page is made from (the
        config, the chrome, the members). Returns it, or the equal tuple of the last
        plan (so that keys holding it compare by identity)."""
        if shared != self._shared:
            self._shared, self._last, self._stories = shared, {}, None
        self._next = {}
        self.values = ReadValues(site, index, topics)
        return self._shared

    def spec(
        self,
        path: str,
        template: str,
        key: Key,
        make: Callable[[], PageSpec],
        source: str | None = None,
    ) -> PageSpec:
        """Last plan's spec for `path` if its key was equal, else a new one whose
        context `make` makes when it is first read (`source`: see PageSpec)."""
        found = self._last.get(path)
        if found is not None and found[0] == key:
            spec = found[1]
        else:
            spec = PageSpec(path, template, LazyContext(make, path, template), source)
        self._next[path] = (key, spec)
        return spec

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
            if (
                isinstance(context, LazyContext)
                and context.reads is not None
                and values.hold(context.reads)
            ):
                self._next[path] = found
                return found[1]

        def made() -> PageSpec:
            return make(SiteReads(values))

        spec = PageSpec(path, template, LazyContext(made, path, template, recording=True), source)
        self._next[path] = (key, spec)
        return spec

    def finish(self) -> None:
        self._last, self._next = self._next, {}

    def keys(self) -> Mapping[str, tuple[Key, PageSpec]]:
        """The finished plan's keys and specs by path (pages without a key are not in it)."""
        return self._last


def page_spec(index: SiteIndex, path: str, template: str, **context: object) -> PageSpec:
    """A page's spec whose context holds the chrome every page shows and `context`."""
    return PageSpec(path=path, template=template, context={"chrome": index.chrome, **context})


def recorded_spec(reads: SiteReads, path: str, template: str, **context: object) -> PageSpec:
    """page_spec for a page function that read the site through `reads`: the spec
    carries what it read. Call it last, once everything shown is read."""
    return PageSpec(path, template, {"chrome": reads.chrome, **context}, reads=reads.record())
