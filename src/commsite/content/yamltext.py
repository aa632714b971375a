"""YAML parsing that keeps line numbers and turns YAML errors into Diagnostics.

Used for front matter and for commsite.yaml. One pass: the loader composes the
node tree (whose marks give each key's line) and constructs the data from it.
"""

from __future__ import annotations

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
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark is not None else 0)
        problem = exc.problem or "syntax error"
        if mark is not None and problem == "found character that cannot start any token":
            rows = text.split("\n")
            row = rows[mark.line] if mark.line < len(rows) else ""
            char = row[mark.column : mark.column + 1]
            problem = "found a tab" if char == "\t" else f"found character {char!r}"
            problem += " that cannot start any token"
        if exc.context:
            problem = f"{exc.context}, {problem}"
        return None, Diagnostic(path, line, f"invalid YAML: {problem}", hint=YAML_HINT)
    except yaml.YAMLError as exc:
        return None, Diagnostic(path, first_line, f"invalid YAML: {exc}", hint=YAML_HINT)
    finally:
        loader.dispose()
    return YamlDocument(data, node), None


def key_lines(
    node: yaml.Node | None, path: str, first_line: int
) -> tuple[dict[str, int], list[Diagnostic]]:
    """The file line of each key of a mapping node (and errors for duplicate keys)."""
    lines: dict[str, int] = {}
    problems: list[Diagnostic] = []
    if not isinstance(node, yaml.MappingNode):
        return lines, problems
    for key_node, _ in node.value:
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
    return lines, problems
