"""What a page is (PageSpec), its lazily made context, and the memo of the last
plan's pages that a long-lived builder keeps (PageMemo)."""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, Mapping
from dataclasses import dataclass

from commsite.content.model import Story
from commsite.render.lookups import CardMemo, SiteIndex

__all__ = ["Key", "LazyContext", "PageMemo", "PageSpec", "page_spec"]


@dataclass(frozen=True, slots=True)
class PageSpec:
    path: str  # a commsite.urls path: "stories/x/" is written as stories/x/index.html
    template: str
    context: Mapping[str, object]
    source: str | None = None  # the content file of the one item the page is about


class LazyContext(Mapping[str, object]):
    """A page's context, made the first time it is read: a build whose record shows
    that a page's inputs are unchanged never needs it (see build/plan.py)."""

    __slots__ = ("_made", "_make", "_page")

    def __init__(self, make: Callable[[], PageSpec], path: str, template: str) -> None:
        self._make: Callable[[], PageSpec] | None = make
        self._made: Mapping[str, object] | None = None
        self._page = (path, template)

    def _context(self) -> Mapping[str, object]:
        if self._made is None:
            assert self._make is not None
            spec = self._make()
            if (spec.path, spec.template) != self._page:
                raise AssertionError(f"{self._page} planned, {spec.path, spec.template} made")
            self._made, self._make = spec.context, None
        return self._made

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
    """The last plan's specs by path, each with the key it was made from."""

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

    def begin(self, shared: Key) -> Key:
        """Start a plan; `shared` is what every page is made from (the config, the
        chrome). Returns it, or the equal tuple of the last plan (so that keys
        holding it compare by identity)."""
        if shared != self._shared:
            self._shared, self._last, self._stories = shared, {}, None
        self._next = {}
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

    def finish(self) -> None:
        self._last, self._next = self._next, {}

    def keys(self) -> Mapping[str, tuple[Key, PageSpec]]:
        """The finished plan's keys and specs by path (pages without a key are not in it)."""
        return self._last


def page_spec(index: SiteIndex, path: str, template: str, **context: object) -> PageSpec:
    """A page's spec whose context holds the chrome every page shows and `context`."""
    return PageSpec(path=path, template=template, context={"chrome": index.chrome, **context})
