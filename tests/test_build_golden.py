"""The golden site: build tests/golden/site/ with a fixed SOURCE_DATE_EPOCH and
compare every output file with tests/golden/expected/ (committed).

When an output change is intended, regenerate with
`python tests/golden/regenerate.py` and review the diff of tests/golden/expected/.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from PIL import Image

from golden.regenerate import EXPECTED, REGENERATE, build_golden

MAX_DIFFS = 3
MAX_DIFF_LINES = 40


# An image variant (build/images.py): its bytes depend on the Pillow and libwebp
# installed, so it is compared by its pixel size (its name holds its source's hash).
_VARIANT = re.compile(r"\.\d+(?:x\d+)?\.[0-9a-f]{10}\.(?:webp|jpg|png)$")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): _bytes(p) for p in root.rglob("*") if p.is_file()}


def _bytes(path: Path) -> bytes:
    if _VARIANT.search(path.name):
        with Image.open(path) as image:
            return f"{image.format} {image.size}".encode()
    return path.read_bytes()


def _diff(name: str, expected: bytes, actual: bytes) -> str:
    try:
        a = expected.decode("utf-8").splitlines(keepends=True)
        b = actual.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return f"{name}: binary files differ ({len(expected)} vs {len(actual)} bytes)\n"
    lines = list(difflib.unified_diff(a, b, f"expected/{name}", f"built/{name}"))
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... ({len(lines) - MAX_DIFF_LINES} more lines)\n"]
    return "".join(lines)


def test_golden_site_matches_expected_output(tmp_path: Path) -> None:
    built_dir = tmp_path / "built"
    build_golden(built_dir)
    expected = _files(EXPECTED)
    built = _files(built_dir)

    problems: list[str] = []
    missing = sorted(expected.keys() - built.keys())
    extra = sorted(built.keys() - expected.keys())
    if missing:
        problems.append("not built any more: " + ", ".join(missing))
    if extra:
        problems.append("built but not expected: " + ", ".join(extra))
    changed = [
        name for name in sorted(expected.keys() & built.keys()) if expected[name] != built[name]
    ]
    for name in changed[:MAX_DIFFS]:
        problems.append(_diff(name, expected[name], built[name]))
    if len(changed) > MAX_DIFFS:
        problems.append(
            f"... and {len(changed) - MAX_DIFFS} more changed files: {changed[MAX_DIFFS:]}"
        )
    if problems:
        raise AssertionError(
            "the golden site's output changed:\n\n"
            + "\n".join(problems)
            + f"\n\nIf the change is intended, run `{REGENERATE}` and review the diff of"
            " tests/golden/expected/."
        )
