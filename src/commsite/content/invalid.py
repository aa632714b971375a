"""What a validator raises, and how its messages show values and suggest fixes.

`Invalid` is a value that does not fit its key (an error); `Accepted` a value
taken in a form it should not have been written in (a warning). Shared by the
validators (content/fields.py, field_dates.py, field_web.py) and the checks
that resolve ids."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from datetime import date

__all__ = ["FEW", "Accepted", "Invalid", "Validator", "did_you_mean", "show", "unknown_id_hint"]


class Invalid(Exception):
    """A value that does not fit its key."""

    def __init__(self, message: str, hint: str | None = None, item: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.item = item  # 1-based index of the list item at fault, if any


class Accepted(Exception):
    """A value taken in a form it should not have been written in: `value` is what
    was taken, and the message (a warning) shows the canonical form."""

    def __init__(self, value: object, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.value = value
        self.message = message
        self.hint = hint


Validator = Callable[[str, object], object]


def show(value: object) -> str:
    """A value as the organiser wrote it, for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean '{found[0]}'?" if found else None


FEW = 8  # up to this many known ids, a hint lists them all


def unknown_id_hint(word: str, known: Iterable[str], what: str, folder: str) -> str:
    """How to fix a reference to an id that does not exist: the ids that start with
    or contain it ('zoe' -> 'zoe-angstrom'), else the nearest spellings; every id
    when there are few; else how to add it."""
    options = sorted(set(known))
    folded = word.casefold()
    near = [o for o in options if folded and folded in o.casefold()]
    near.sort(key=lambda o: not o.casefold().startswith(folded))  # prefixes first
    if not near:
        near = difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    listed = ", ".join(options)
    if near:
        quoted = [f"'{o}'" for o in near[:3]]
        guess = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        hint = f"did you mean {guess}?"
        if len(options) <= FEW and len(options) > len(quoted):
            return f"{hint} (the {what}s are {listed})"
        return hint
    add = f"add content/{folder}/{word}.md"
    if options and len(options) <= FEW:
        return f"the {what}s are {listed}; or {add}"
    return add
