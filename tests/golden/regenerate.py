"""Rebuild tests/golden/expected/ from tests/golden/site/.

    python tests/golden/regenerate.py

Run it only when a change to the output is intended, then read the diff of
tests/golden/expected/ in review: it shows exactly what the change does to a
built site. tests/test_build_golden.py builds the same site the same way and
compares file by file.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from commsite.build.clock import build_now
from commsite.build.run import BuildOptions, build_site

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
EXPECTED = HERE / "expected"
SOURCE_DATE_EPOCH = "1790856000"  # 2026-10-01T12:00:00Z
REGENERATE = "python tests/golden/regenerate.py"


def golden_now() -> datetime:
    return build_now({"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH})


def build_golden(output: Path) -> None:
    """Build the golden site into `output` (which must not exist), without a cache."""
    result = build_site(
        BuildOptions(root=SITE, output=output, cache=False, jobs=1), now=golden_now()
    )
    if not result.ok:
        problems = "\n".join(d.format() for d in result.diagnostics)
        raise SystemExit(f"the golden site does not build:\n{problems}")
    # Pagefind's search bundle: its program's files (JS, WebAssembly) and a
    # binary index that change with its version; tests/test_search_index.py
    # checks what it finds instead.
    shutil.rmtree(output / "pagefind", ignore_errors=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="golden-") as tmp:
        output = Path(tmp) / "expected"
        build_golden(output)
        shutil.rmtree(EXPECTED, ignore_errors=True)
        shutil.copytree(output, EXPECTED)
    count = sum(1 for p in EXPECTED.rglob("*") if p.is_file())
    print(f"wrote {count} files to {EXPECTED}")
    print("review them: git diff --stat tests/golden/expected/ && git diff tests/golden/expected/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
