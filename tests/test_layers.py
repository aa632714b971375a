"""The architecture stays legible: the import contracts in pyproject.toml hold.

`[tool.importlinter]` declares the layers (cli -> serve, sidecar -> build,
federation services, report -> images, links, search (the features the build
runs) -> site_files -> render, activitypub -> feeds ->
content -> markdown -> config and the other leaves) and what some packages
must never import: the sidecar never the build, the protocol never a
database, the network or a file. import-linter (`lint-imports`) checks them
on the real import graph, indirect imports included; these tests run it, so
CI fails with the broken contract's chain of imports. docs/maintainers.md
("Architecture") says where each kind of code goes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import commsite

ROOT = Path(__file__).resolve().parent.parent
SRC = Path(commsite.__file__).resolve().parent
# Folders of src/commsite that hold data, not code: nothing imports them.
DATA = {"starter", "__pycache__"}


def _lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the pyproject.toml in `cwd`, with no cache left behind."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--no-cache",
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_the_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_top_level_part_has_a_layer() -> None:
    """A new package or module is placed in the layers on purpose, not by default."""
    (layers,) = [c["layers"] for c in _contracts() if c["type"] == "layers"]
    assert isinstance(layers, list)
    named = {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}
    parts = {
        f"commsite.{p.stem}"
        for p in SRC.iterdir()
        if p.name not in DATA
        and p.name != "__init__.py"
        and ((p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py")
    }
    assert parts - named == set(), "give these a layer in pyproject.toml [tool.importlinter]"
    assert named - parts == set(), "the layers name modules that are gone"


def test_a_forbidden_import_breaks_its_contract(tmp_path: Path) -> None:
    """The check can fail: in a copy of the source, an import up the layers, the
    sidecar reaching into the build, the protocol opening a database and the
    search index opening a socket are each reported, with the chain of imports."""
    shutil.copytree(SRC, tmp_path / "commsite", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for module, line in (
        ("sidecar/outcome.py", "import commsite.build.plan  # noqa"),
        ("activitypub/webfinger.py", "import sqlite3  # noqa"),
        ("markdown.py", "import commsite.content.model  # noqa"),
        ("search/pagefind.py", "import socket  # noqa"),
    ):
        path = tmp_path / "commsite" / module
        path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = _lint_imports(tmp_path, env)
    assert result.returncode == 1, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert "The sidecar does not import the build, the pages or the preview BROKEN" in out
    assert "commsite.sidecar.outcome -> commsite.build.plan" in out
    assert "commsite.activitypub.webfinger -> sqlite3" in out
    assert "Imports point down the layers BROKEN" in out
    assert "commsite.markdown -> commsite.content.model" in out
    assert "the search index reach neither the network nor the database BROKEN" in out
    assert "commsite.search.pagefind -> socket" in out
    assert "2 kept, 4 broken" in out


def test_every_package_is_installed() -> None:
    """pyproject.toml lists the packages a wheel gets: an editable install (as in CI)
    finds any folder, so a package left out would only break a real install."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(SRC.parent).parts)
        for init in SRC.rglob("__init__.py")
        if not DATA & set(init.relative_to(SRC).parts)
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
