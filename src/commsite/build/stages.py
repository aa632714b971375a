"""What each step of the full build makes (build/pipeline.py): frozen records
passed from one step to the next, so that each step says what it reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commsite.build.cache import BuildCache, RecordEntry
from commsite.build.inputs import InputScan
from commsite.build.memo import BuildMemo
from commsite.build.objects import ObjectStore
from commsite.build.plan import Output
from commsite.build.search import SearchPlan
from commsite.build.sources import Sources
from commsite.config import SiteConfig
from commsite.content.model import Site
from commsite.content.parse import ParsedFile
from commsite.content.safe_files import Fence
from commsite.render.renderer import Renderer
from commsite.render.theme import Theme

__all__ = ["Assembled", "Loaded", "Parsed", "Planned", "Rendered"]


@dataclass(frozen=True, slots=True)
class Loaded:
    config: SiteConfig
    theme: Theme
    cache: BuildCache | None
    scan: InputScan
    fence: Fence
    jobs: int  # worker processes
    sources: Sources
    objects: ObjectStore
    memo: BuildMemo


@dataclass(frozen=True, slots=True)
class Parsed:
    files: list[ParsedFile]
    interactions: Any  # (content.interactions.Interactions)
    public_key: str | None


@dataclass(frozen=True, slots=True)
class Assembled:
    site: Site
    parsed: list[ParsedFile]
    variants: dict[str, tuple[bytes, str]]  # image variants to write: path -> (bytes, image)


@dataclass(frozen=True, slots=True)
class Planned:
    renderer: Renderer
    record: dict[str, RecordEntry] | None
    outputs: dict[str, Output]  # everything the site is made of
    to_make: list[Output]  # what is out of date (the search bundle apart)
    gone: list[str]  # recorded outputs no longer made
    search: SearchPlan | None
    reindex: bool  # the search index is to be made again

    @property
    def up_to_date(self) -> bool:
        """Nothing to make, remove or index: the output stays as it is."""
        return self.record is not None and not (self.to_make or self.gone or self.reindex)


@dataclass(frozen=True, slots=True)
class Rendered:
    outputs: dict[str, Output]  # the plan's, with the new search bundle's files
    made: list[Output]  # what was rendered (and the new bundle's files)
    gone: list[str]
    record: dict[str, RecordEntry] | None
    search: SearchPlan | None
    reindex: bool
