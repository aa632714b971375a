"""What the build cache stores, as plain data, checked when read back.

The cache may have been written by someone else (a CI cache restored from
another branch) or damaged on disk, so it never holds code: no pickles, no
compiled templates. A parsed file is stored as compact JSON of strings,
numbers, lists and mappings (its HTML beside it as UTF-8), and rebuilt here
field by field with the exact types `content.parse.ParsedFile` has. Anything
else (a wrong type, an unknown tag, a value that does not parse) raises
`BadEntry`, which the cache counts as a miss: the file is parsed again.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

from commsite.content.parse import SCHEMAS, ParsedFile
from commsite.errors import Diagnostic, Severity

__all__ = ["BadEntry", "decode_parsed", "encode_parsed", "template_deps"]


class BadEntry(ValueError):
    """A stored value that is not what commsite writes."""


# --- a parsed file -----------------------------------------------------------------
#
# b"HEAD BODY\n" (two lengths in bytes, in ASCII digits), then the head: JSON of
#   [kind, path, meta, key_lines, rule_items, rule_start, diagnostics, ok, links],
#   links being [address, line, is_image] triples,
# then body_html and summary as UTF-8 (the HTML outside JSON: escaping its quotes
# made reading a cached file 2.5 times slower than unpickling it, measured).
# meta is {key: [tag, value]}:
#   "s" text, "b" true/false, "i" a whole number, "d" a date (ISO), "t" a date and
#   time (ISO, with its UTC offset when it has one), "l" a list of text,
#   "p" a list of [label, text] pairs, "m" a mapping of text to text.

_SEVERITIES = {s.value: s for s in Severity}
_ENCODING = ("utf-8", "surrogatepass")
_JSON = json.JSONDecoder()


def encode_parsed(parsed: ParsedFile) -> bytes:
    """The stored form of `parsed`; BadEntry when a value has no plain form (it is
    then not stored)."""
    meta = {key: _encode_value(value) for key, value in parsed.meta.items()}
    diagnostics = [
        [d.path, d.line, d.message, d.severity.value, d.hint] for d in parsed.diagnostics
    ]
    head = json.dumps(
        [
            parsed.kind,
            parsed.path,
            meta,
            parsed.key_lines,
            parsed.rule_items,
            parsed.rule_start,
            diagnostics,
            parsed.ok,
            parsed.links,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode(*_ENCODING)
    body = parsed.body_html.encode(*_ENCODING)
    return b"%d %d\n%b%b%b" % (len(head), len(body), head, body, parsed.summary.encode(*_ENCODING))


def _encode_value(value: object) -> list[object]:
    kind = type(value)
    if kind is str:
        return ["s", value]
    if kind is bool:
        return ["b", value]
    if kind is int:
        return ["i", value]
    if kind is datetime:
        assert isinstance(value, datetime)
        if value.tzinfo is not None and type(value.tzinfo) is not timezone:
            raise BadEntry(f"a time zone with no fixed offset: {value.tzinfo!r}")
        return ["t", value.isoformat()]
    if kind is date:
        assert isinstance(value, date)
        return ["d", value.isoformat()]
    if kind is tuple:
        assert isinstance(value, tuple)
        if all(type(v) is str for v in value):
            return ["l", list(value)]
        if all(type(v) is tuple and len(v) == 2 and _texts(v) for v in value):
            return ["p", [list(v) for v in value]]
    if kind is dict:
        assert isinstance(value, dict)
        if _texts(value.keys()) and _texts(value.values()):
            return ["m", value]
    raise BadEntry(f"no plain form for {kind.__name__}")


def decode_parsed(blob: bytes) -> ParsedFile:
    """The ParsedFile `encode_parsed` wrote; BadEntry when `blob` is anything else.

    (A new process decodes every file of the site: 11,500 at 10,000 stories. The
    common cases are checked inline, without a call per value.)"""
    first, newline, _ = blob[:48].partition(b"\n")
    lengths = first.split(b" ")
    if not newline or len(lengths) != 2 or not all(n.isdigit() for n in lengths):
        raise BadEntry("not a parsed file")
    start = len(first) + 1
    middle = start + int(lengths[0])
    end = middle + int(lengths[1])
    if end > len(blob):
        raise BadEntry("cut short")
    try:
        head = blob[start:middle].decode(*_ENCODING)
        data, stop = _JSON.raw_decode(head)
        body_html = blob[middle:end].decode(*_ENCODING)
        summary = blob[end:].decode(*_ENCODING)
    except ValueError as exc:  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
        raise BadEntry(f"does not read: {exc}") from None
    if stop != len(head) or type(data) is not list or len(data) != 9:
        raise BadEntry("not a parsed file")
    kind, path, meta, key_lines, rule_items, rule_start, diags, ok, links = data
    schema = SCHEMAS.get(kind) if type(kind) is str else None
    if schema is None:
        raise BadEntry(f"unknown kind {kind!r}")
    if type(path) is not str or type(rule_start) is not int or type(ok) is not bool:
        raise BadEntry("path, rule_start or ok")
    if type(meta) is not dict or not meta.keys() <= schema.keys():
        raise BadEntry("meta")
    values: dict[str, object] = {}
    for key, item in meta.items():
        if type(item) is list and len(item) == 2 and item[0] == "s" and type(item[1]) is str:
            values[key] = item[1]
        else:
            values[key] = _decode_value(item)
    return ParsedFile(
        kind,
        path,
        values,
        _lines(key_lines),
        body_html,
        summary,
        () if rule_items == [] else tuple(_text_list(rule_items)),
        rule_start,
        () if diags == [] else tuple(_diagnostic(d) for d in _list(diags)),
        ok,
        () if links == [] else tuple(_link(link) for link in _list(links)),
    )


def _link(item: Any) -> tuple[str, int, bool]:
    """A link as the link checker keeps it: (address, line in the file, is an image)."""
    if type(item) is not list or len(item) != 3:
        raise BadEntry("a link must be [address, line, is_image]")
    address, line, image = item
    if type(address) is not str or type(line) is not int or type(image) is not bool:
        raise BadEntry("a link must be [address, line, is_image]")
    return address, line, image


def _decode_value(item: Any) -> object:
    if type(item) is not list or len(item) != 2:
        raise BadEntry("a meta value must be [tag, value]")
    tag, value = item
    if tag == "s" and type(value) is str:
        return value
    if tag == "b" and type(value) is bool:
        return value
    if tag == "i" and type(value) is int:
        return value
    if tag == "t" and type(value) is str:
        return _iso(datetime.fromisoformat, value)
    if tag == "d" and type(value) is str:
        return _iso(date.fromisoformat, value)
    if tag == "l":
        return tuple(_text_list(value))
    if tag == "p":
        pairs = _list(value)
        if not all(type(p) is list and len(p) == 2 and _texts(p) for p in pairs):
            raise BadEntry("pairs must be [text, text]")
        return tuple((p[0], p[1]) for p in pairs)
    if tag == "m" and type(value) is dict and _texts(value.values()):
        return value
    raise BadEntry(f"bad meta value tagged {tag!r}")


def _iso(parse: Any, text: str) -> object:
    try:
        return parse(text)
    except ValueError:
        raise BadEntry(f"not an ISO date: {text!r}") from None


def _diagnostic(item: Any) -> Diagnostic:
    if type(item) is not list or len(item) != 5:
        raise BadEntry("a diagnostic must be [path, line, message, severity, hint]")
    path, line, message, severity, hint = item
    if not (
        type(path) is str
        and (line is None or type(line) is int)
        and type(message) is str
        and severity in _SEVERITIES
        and (hint is None or type(hint) is str)
    ):
        raise BadEntry("bad diagnostic")
    return Diagnostic(path, line, message, _SEVERITIES[severity], hint)


def _lines(value: Any) -> dict[str, int]:
    if type(value) is not dict or not all(type(n) is int for n in value.values()):
        raise BadEntry("key lines must map text to whole numbers")
    return value


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise BadEntry("expected a list")
    return value


def _text_list(value: Any) -> list[str]:
    if type(value) is not list or not _texts(value):
        raise BadEntry("expected a list of text")
    return value


def _texts(values: Any) -> bool:
    return all(type(v) is str for v in values)


# --- the template dependencies (build/page_outputs.py's _TemplateDigests) --------------------


def template_deps(value: object) -> dict[str, Any]:
    """{"state": digest, "deps": {template: [file, ...]}} as stored, or {} (nothing
    known) when `value` has any other shape."""
    if type(value) is not dict or value.keys() != {"state", "deps"}:
        return {}
    state, deps = value["state"], value["deps"]
    if type(state) is not str or type(deps) is not dict:
        return {}
    for files in deps.values():
        if type(files) is not list or not _texts(files):
            return {}
    return value
