"""The report folder: index.html, report.json and charts/ (the one module that writes).

Only these names are written, each through a temporary file and a rename,
so a report interrupted half-way leaves the previous files whole, and
nothing else in the folder is touched.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from commsite.report.charts import Chart
from commsite.report.model import HealthReport

__all__ = ["PROTECTED", "report_json", "unsafe_output", "write_report"]

# Folders of a site a report must never be written into: what is published
# (public/, static/, themes/) or committed as content.
PROTECTED = ("public", "static", "content", "interactions", "federation", "themes")


def report_json(report: HealthReport) -> str:
    """The numbers as JSON (keys in the dataclasses' order), ending in a newline."""
    data: dict[str, Any] = asdict(report)
    data["conversation"]["total"] = report.conversation.total
    data["conversation"]["member_share"] = (
        None
        if report.conversation.member_share is None
        else round(report.conversation.member_share, 4)
    )
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def unsafe_output(site: Path, out: Path) -> str | None:
    """Why `out` must not hold the report, or None when it may."""
    root, target = site.resolve(), out.resolve()
    if target == root:
        return "it is the site's folder itself"
    for name in PROTECTED:
        folder = root / name
        if target == folder or folder in target.parents:
            return f"it is inside {name}/, which is published or committed"
    return None


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(out: Path, page: str, report: HealthReport, charts: Sequence[Chart]) -> list[Path]:
    """Write the folder; the paths written, index.html first."""
    written = [out / "index.html", out / "report.json"]
    _write(written[0], page.encode("utf-8"))
    _write(written[1], report_json(report).encode("utf-8"))
    for chart in charts:
        for suffix, data in (("svg", chart.svg), ("png", chart.png)):
            path = out / "charts" / f"{chart.name}.{suffix}"
            _write(path, data)
            written.append(path)
    return written
