"""Diagnostics and the exception tree.

Errors are data: loaders and validators collect `Diagnostic`s and keep going, so
one run reports every problem. They are printed GCC-style::

    content/stories/x.md:3: error: 'date' is not a date (got "tomorrow"); use YYYY-MM-DD
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "CommsiteError",
    "ContentError",
    "Diagnostic",
    "Severity",
    "SiteError",
    "count_line",
    "has_errors",
]


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in the site's files.

    `path` is relative to the site root, with forward slashes. `line` is 1-based,
    or None when the problem has no line (a missing file, say). `hint` says how to
    fix it and is printed after the message, separated by "; ".
    """

    path: str
    line: int | None
    message: str
    severity: Severity = Severity.ERROR
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        text = self.message if not self.hint else f"{self.message}; {self.hint}"
        return f"{where}: {self.severity.value}: {text}"

    def as_error(self) -> Diagnostic:
        """The same diagnostic as an error (what `--strict` does to warnings)."""
        return Diagnostic(self.path, self.line, self.message, Severity.ERROR, self.hint)

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.line or 0, self.message)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def count_line(diagnostics: Sequence[Diagnostic]) -> str:
    """'2 errors, 1 warning' — the line printed after the diagnostics."""
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    parts = [
        f"{errors} error{'s' if errors != 1 else ''}",
        f"{warnings} warning{'s' if warnings != 1 else ''}",
    ]
    return ", ".join(parts)


class CommsiteError(Exception):
    """Base class of every error commsite raises on purpose. One about the site's
    files carries them as `diagnostics` (a `SiteError`); others have none."""

    diagnostics: tuple[Diagnostic, ...] = ()


class SiteError(CommsiteError):
    """An error in the site's files that stops what was going on, as the
    diagnostics to print (its message is them, formatted): the caller reports
    them as they are, never by reading the message back."""

    def __init__(self, *diagnostics: Diagnostic) -> None:
        super().__init__(*diagnostics)  # (args: an exception pickles as its class and args)
        self.diagnostics = diagnostics

    def __str__(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)


class ContentError(CommsiteError):
    """The site's content has errors; `diagnostics` lists all of them."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
        super().__init__(count_line(self.diagnostics))
