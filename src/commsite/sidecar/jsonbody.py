"""An inbox body as JSON: strict, so nothing odd reaches storage or processing."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["NotJSON", "parse_json"]


class NotJSON(ValueError):
    """The body is not JSON we can store and process; the message says why."""


def _no_constant(name: str) -> Any:
    raise NotJSON(f"{name} is not a JSON value")


_MAX_DIGITS = 4300  # Python's own limit on converting digits to an int
_MAX_DEPTH = 64  # ActivityPub documents nest a few levels; every reader after this recurses


def _depth(value: Any) -> int:
    """How deeply `value` nests arrays and objects, counted without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level + 1)
            stack.extend((child, level + 1) for child in item)
    return deepest


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > _MAX_DIGITS:
        raise NotJSON(f"an integer of {digits} digits is too long")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NotJSON(f"the number {text[:20]}{'...' if len(text) > 20 else ''} is out of range")
    return value


def parse_json(body: bytes) -> Any:
    """The body as JSON, or NotJSON: UTF-8 only (what gets stored), strict JSON only.

    Beyond what json.loads refuses: NaN and Infinity (not JSON), numbers out of
    a float's range, integers longer than Python converts (a ValueError, not a
    JSONDecodeError, which used to answer 500), nesting deeper than
    64 levels (the readers after this one recurse), and strings with a lone
    surrogate such as "\\ud800", which are not Unicode and could not be stored or sent on as UTF-8.
    """
    try:
        value = json.loads(
            body.decode("utf-8"), parse_constant=_no_constant, parse_int=_int, parse_float=_float
        )
        if _depth(value) > _MAX_DEPTH:
            raise NotJSON(f"nested deeper than {_MAX_DEPTH} levels")
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except NotJSON:
        raise
    except UnicodeEncodeError as exc:
        raise NotJSON(f"a string holds a lone surrogate ({exc.reason})") from None
    except RecursionError:
        raise NotJSON("nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, the int digit limit
        raise NotJSON(str(exc)) from None
    return value
