"""commsite: a community's Git repository as a static site the fediverse can follow."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["__version__"]

if TYPE_CHECKING:
    __version__: str
else:

    def __getattr__(name: str) -> str:
        """`__version__`, looked up when first asked for (importlib.metadata, and
        the email package it brings, were a tenth of `commsite --help`'s start)."""
        if name != "__version__":
            raise AttributeError(f"module 'commsite' has no attribute {name!r}")
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("commsite")
        except PackageNotFoundError:  # running from a source tree that is not installed
            found = "0.0.0+unknown"
        globals()["__version__"] = found
        return found
