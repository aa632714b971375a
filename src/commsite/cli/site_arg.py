"""The site folder, the same way on every command: an optional last argument
[SITE] (default: the current folder), with `--site DIR` / `-s DIR` kept as a
hidden alias for scripts written before (`commsite new` and `commsite moderate`
took only the option)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["site_argument", "the_site"]

F = TypeVar("F", bound=Callable[..., Any])


def the_site(argument: Path | None, option: Path | None) -> Path | None:
    """SITE or --site (None when neither is given); both only when they agree."""
    if argument is not None and option is not None and argument.resolve() != option.resolve():
        raise click.UsageError(
            f"the site is given twice, as SITE ({argument}) and as --site ({option});"
            " give it once, as the last argument"
        )
    return argument if argument is not None else option


def site_argument(
    *, exists: bool = False, fallback: Callable[[], Path] | None = None
) -> Callable[[F], F]:
    """Give a command [SITE] and the hidden --site/-s; it is called with `site: Path`
    (`fallback()`, else the current folder, when neither is given)."""
    path = click.Path(exists=exists, file_okay=False, path_type=Path)

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def call(*args: Any, **kwargs: Any) -> Any:
            site = the_site(kwargs.pop("site"), kwargs.pop("site_option"))
            if site is None:
                site = fallback() if fallback is not None else Path(".")
            return command(*args, site=site, **kwargs)

        call = click.option(
            "--site",
            "-s",
            "site_option",
            type=path,
            default=None,
            hidden=True,
            help="The site's folder (the same as SITE).",
        )(call)
        call = click.argument("site", required=False, default=None, type=path)(call)
        return call  # type: ignore[return-value]

    return decorate
