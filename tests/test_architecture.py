"""The architecture stays legible: imports flow one way, as STYLE.md says.

cli -> (build, serve, sidecar) -> (render, feeds, federation) -> (content,
markdown) -> (config, urls, datadir, database) -> errors. A module may import
its own layer's siblings and anything below; nothing imports upwards.
"""

from __future__ import annotations

import ast
from pathlib import Path

import commsite

SRC = Path(commsite.__file__).parent

LAYERS: dict[str, int] = {
    "errors": 0,
    "config": 1,
    "urls": 1,
    "slugs": 1,
    "processes": 1,
    "datadir": 1,
    "database": 1,
    "site_files": 1,  # the served files table: a leaf, shared by build, serve, sidecar
    "progress": 1,  # the progress reporter: a leaf any long step calls
    "jobs": 1,  # the one job queue: a leaf, used by federation (deliveries) and the sidecar
    "image_table": 1,  # what the build learned of images: carried by the config
    "content": 2,
    "markdown": 2,
    "markdown_rust": 2,
    "render": 3,
    "feeds": 3,
    "federation": 3,
    "report": 3,  # the health report: content and the store (read-only) -> numbers, charts, page
    "build": 4,
    "serve": 5,
    "sidecar": 5,
    "cli": 6,
    "__main__": 7,
    "__init__": 0,
    "starter": 2,
    "themes": 0,  # the bundled themes: data, imported only to find their folder
}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("commsite"):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names if a.name.startswith("commsite"))
    return found


def test_every_top_level_part_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in SRC.iterdir() if not p.name.startswith("_")}
    parts = {p for p in parts if (SRC / p).is_dir() or (SRC / f"{p}.py").exists()}
    parts.discard("py")
    assert parts <= set(LAYERS), f"give these a layer in this test: {parts - set(LAYERS)}"


def test_imports_only_point_down() -> None:
    upward = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        here = _part(".".join(rel.parts))
        if here not in LAYERS:
            continue
        for line, module in _imports(path):
            there = _part(module)
            if there == "__init__" or there == here:
                continue
            if LAYERS[there] > LAYERS[here]:
                upward.append(f"{path.relative_to(SRC)}:{line}: {here} imports {module}")
    assert not upward, "imports that point up a layer:\n" + "\n".join(upward)
