"""The golden site: build tests/golden/site/ with a fixed SOURCE_DATE_EPOCH and
compare every output file with tests/golden/expected/ (committed).

When an output change is intended, regenerate with
`python tests/golden/regenerate.py` and review the diff of tests/golden/expected/.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from golden.regenerate import EXPECTED, REGENERATE, build_golden

MAX_DIFFS = 3
MAX_DIFF_LINES = 40


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


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
