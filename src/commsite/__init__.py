"""commsite: a community's Git repository as a static site the fediverse can follow."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("commsite")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
