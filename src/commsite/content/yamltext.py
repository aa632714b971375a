"""YAML parsing that keeps line numbers and turns YAML errors into Diagnostics.

Used for front matter and for commsite.yaml. One pass: the loader composes the
node tree (whose marks give each key's line) and constructs the data from it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from commsite.errors import Diagnostic

__all__ = ["YamlDocument", "key_lines", "parse_yaml"]

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loading; an impossible timestamp (2026-02-30) stays a string, so the
    validators can report it against its key instead of the whole file failing."""


def _timestamp(loader: SafeConstructor, node: yaml.ScalarNode) -> date | datetime | str:
    try:
        value: date | datetime = SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return str(loader.construct_scalar(node))
    return value


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

# Plain scalars are typed by YAML 1.2's core schema, not PyYAML's YAML 1.1 one:
# 1.1 reads `end: 17:00` as the number 1020 (base 60), `no`, `on` and `off` as
# booleans and `010` as 8, so a value the organiser typed would reach the
# validators as something else. Under these rules such values stay text, as
# typed, and each key's validator decides what they mean (fields.boolean still
# takes yes/no). Dates (the timestamp resolver) are kept.
# Every scalar typed here is one YAML 1.1 types the same way (010 aside: ten,
# not eight), so what yaml.safe_dump writes (quoting what 1.1 would misread),
# such as the exported interactions/ files, reads back unchanged: 1.2's 0o17
# and 1e3 stay text, as in 1.1.
_CORE = {
    "tag:yaml.org,2002:bool": (re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    "tag:yaml.org,2002:int": (
        re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*|0[0-7]+)|0x[0-9a-fA-F]+)$"),
        "-+0123456789",
    ),
    "tag:yaml.org,2002:float": (
        re.compile(
            r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+][0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+0123456789.",
    ),
}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _CORE]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, (_regexp, _first) in _CORE.items():
    _Loader.add_implicit_resolver(_tag, _regexp, list(_first))


def _core_int(loader: SafeConstructor, node: yaml.ScalarNode) -> int:
    """An int as YAML 1.2 reads it: 010 is ten (1.1 read it as octal 8)."""
    value = str(loader.construct_scalar(node))
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


_Loader.add_constructor("tag:yaml.org,2002:int", _core_int)

YAML_HINT = (
    "check the indentation (spaces, not tabs) and put quotes around values that contain"
    " ': ' or start with '@', '*', '&', '!', '[' or '{'"
)


class YamlDocument:
    __slots__ = ("data", "node")

    def __init__(self, data: object, node: yaml.Node | None) -> None:
        self.data = data
        self.node = node


def parse_yaml(
    text: str, path: str, first_line: int
) -> tuple[YamlDocument | None, Diagnostic | None]:
    """Parse one YAML document whose first line is line `first_line` of `path`."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data: Any = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        return None, _explain(exc, text, path, first_line)
    except yaml.reader.ReaderError as exc:
        line = first_line + text.count("\n", 0, max(exc.position, 0))
        return None, Diagnostic(
            path,
            line,
            f"invalid YAML: the control character U+{exc.character:04X} is not allowed",
            hint="delete it (it is invisible in most editors: retype the line)",
        )
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        return None, Diagnostic(path, first_line, f"invalid YAML: {message}", hint=YAML_HINT)
    finally:
        loader.dispose()
    return YamlDocument(data, node), None


_CLOSERS = {"[": "]", "{": "}", '"': '"', "'": "'"}


def _char_at(text: str, mark: yaml.Mark | None) -> str:
    if mark is None:
        return ""
    rows = text.split("\n")
    row = rows[mark.line] if mark.line < len(rows) else ""
    return row[mark.column : mark.column + 1]


def _rest_of_line(text: str, mark: yaml.Mark | None) -> str:
    if mark is None:
        return ""
    rows = text.split("\n")
    row = rows[mark.line] if mark.line < len(rows) else ""
    return row[mark.column :].rstrip()


def _explain(exc: yaml.MarkedYAMLError, text: str, path: str, first_line: int) -> Diagnostic:
    """A YAML error as a Diagnostic on the line the author has to fix.

    PyYAML reports where it noticed the problem. For a '[', '{' or quote that is
    never closed that is often lines later, so the message points at the line
    where it was opened (the error's context mark) and names the other line too.
    """
    problem_mark, context_mark = exc.problem_mark, exc.context_mark
    context = exc.context or ""
    problem = exc.problem or "syntax error"
    opened = _char_at(text, context_mark)
    if (
        context_mark is not None
        and opened in _CLOSERS
        and (
            context.startswith("while parsing a flow")
            or context.startswith("while scanning a quoted")
        )
    ):
        line = first_line + context_mark.line
        closer = _CLOSERS[opened]
        what = f"the quote {opened} opened here" if opened in "\"'" else repr(opened)
        message = f"invalid YAML: {what} is never closed"
        if problem_mark is not None and problem_mark.line != context_mark.line:
            message += f" (the YAML parser gave up at line {first_line + problem_mark.line})"
        if opened in "[{":
            hint = (
                f"close it with {closer!r}, or put the whole value in quotes if the"
                f" {opened!r} is meant as text"
            )
        else:
            hint = f"end the value with a closing {closer}"
        return Diagnostic(path, line, message, hint=hint)
    if context.startswith("while scanning a simple key") and context_mark is not None:
        line = first_line + context_mark.line
        return Diagnostic(
            path,
            line,
            "invalid YAML: this line is not 'key: value' (no ': ' found)",
            hint="write it as 'key: value', or indent it to continue the value on the line above",
        )
    mark = problem_mark or context_mark
    line = first_line + (mark.line if mark is not None else 0)
    if "cannot start any token" in problem:
        char = _char_at(text, problem_mark)
        if char == "\t":
            return Diagnostic(
                path,
                line,
                "invalid YAML: found a tab",
                hint="indent with spaces (YAML does not allow tabs)",
            )
        return Diagnostic(
            path,
            line,
            f"invalid YAML: a value cannot start with {char!r}",
            hint=f'put the whole value in quotes: "{_rest_of_line(text, problem_mark)}"',
        )
    elif problem.startswith("mapping values are not allowed"):
        return Diagnostic(
            path,
            line,
            "invalid YAML: unexpected ':' (mapping values are not allowed here)",
            hint="put quotes around a value that contains ': ', e.g. title: \"Repair:"
            ' the sequel", or remove extra indentation at the start of the line',
        )
    elif problem.startswith("found undefined alias"):
        return Diagnostic(
            path,
            line,
            "invalid YAML: a value starts with '*', which YAML reads as an alias",
            hint="put the value in quotes",
        )
    if context:
        problem = f"{context}, {problem}"
    return Diagnostic(path, line, f"invalid YAML: {problem}", hint=YAML_HINT)


def key_lines(
    node: yaml.Node | None, path: str, first_line: int
) -> tuple[dict[str, int], list[Diagnostic]]:
    """The file line of each key of a mapping node, and of each item of a list value
    as "key[N]" (N from 1); errors for duplicate keys."""
    lines: dict[str, int] = {}
    problems: list[Diagnostic] = []
    if not isinstance(node, yaml.MappingNode):
        return lines, problems
    for key_node, value_node in node.value:
        key = str(key_node.value)
        line = first_line + key_node.start_mark.line
        if key in lines:
            problems.append(
                Diagnostic(
                    path,
                    line,
                    f"duplicate key '{key}' (also at line {lines[key]})",
                    hint="keep one of them",
                )
            )
            continue
        lines[key] = line
        if isinstance(value_node, yaml.SequenceNode):  # "tags[2]": the line of item 2
            for n, item in enumerate(value_node.value, start=1):
                lines[f"{key}[{n}]"] = first_line + item.start_mark.line
    return lines, problems
