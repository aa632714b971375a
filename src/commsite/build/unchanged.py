"""The no-change check: the first step of every build, settled before anything
heavy is imported or loaded. It finds the cache through a plain read of
commsite.yaml, hashes the input files and compares them, the clock's window and
the output on disk with what the last successful build remembered."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from commsite.build.cache import BuildCache
from commsite.build.cache_record import RecordEntry
from commsite.build.inputs import InputScan, NowWindow
from commsite.build.kept import Kept
from commsite.build.state import (
    BuildOptions,
    BuildResult,
    Run,
    left_out_from_json,
    left_out_json,
)
from commsite.content.safe_files import read_input, site_fence
from commsite.datadir import DataDir
from commsite.errors import Diagnostic, Severity

__all__ = ["check_disk", "fast_name", "on_disk", "quick_check", "remember"]


def fast_name(options: BuildOptions) -> str:
    """The build cache's name for what the no-change check compares with."""
    return f"unchanged:{options.output_dir}"


def quick_check(run: Run, kept: Kept) -> BuildResult | None:
    """The finished result if nothing changed since the last build, else None."""
    options = run.options
    if not options.cache:
        return None
    data_dir = _quick_data_dir(options.root)
    if data_dir is None:
        return None
    kept.fence = site_fence(options.root, data_dir, options.output_dir)
    directory = DataDir.for_site(options.root, data_dir).build_cache
    run.summary_dir = directory
    cache = kept.open_cache_at(directory)
    fast = cache.get_json(fast_name(options))
    if not isinstance(fast, dict) or not isinstance(fast.get("extra"), list):
        return None
    extra = [Path(p) for p in fast["extra"] if isinstance(p, str)]
    if kept.stats is None:
        kept.stats = cache.get_stats()
    scan = run.scan_inputs(kept, cache, extra)
    if not _unchanged(run, kept, cache, scan.digest, fast) or cache.damaged:
        return None  # (a damaged cache is made again from what a full build knows)
    return run.finished((), (), (), kept.record_total)


def _unchanged(
    run: Run, kept: Kept, cache: BuildCache, inputs: bytes, fast: dict[str, Any]
) -> bool:
    """Whether the last successful build had these inputs, `now` is still in the
    same window, and the output is on disk as it was written."""
    if fast.get("inputs") != inputs.hex():
        return False
    try:
        window = NowWindow(float(fast["after"]), float(fast["before"]))
        total = int(fast["total"])
        diagnostics = [_diagnostic_from_json(d) for d in fast["diagnostics"]]
        left_out = left_out_from_json(fast["left_out"])
    except (KeyError, TypeError, ValueError, IndexError, ZoneInfoNotFoundError):
        return False
    if not window.contains(run.now):
        return False
    # Only each output's size and time are read here (a long-lived builder has the
    # whole record in memory); the rest is decoded when a build needs it.
    states = cache.get_states() if not kept.record_loaded else _states(kept.record)
    if states is None or len(states) != total:
        return False
    if check_disk(run.options, kept):
        output = str(run.options.output_dir)
        for path, size, mtime_ns in states:
            if not on_disk(output, path, size, mtime_ns):
                return False
        kept.output_known = True
    run.problems += diagnostics
    run.left_out = left_out
    kept.record_total = total
    return True


def _states(record: Mapping[str, RecordEntry] | None) -> list[tuple[str, int, int]] | None:
    if record is None:
        return None
    return [(path, e.state.size, e.state.mtime_ns) for path, e in record.items()]


def check_disk(options: BuildOptions, kept: Kept) -> bool:
    """Whether unchanged outputs must be checked on disk (see owned_output)."""
    return not (options.owned_output and kept.output_known)


def remember(
    run: Run, cache: BuildCache | None, scan: InputScan, window: NowWindow, total: int
) -> None:
    """Save what the no-change check of the next build compares with."""
    if cache is None:
        return
    value = {
        "inputs": scan.digest.hex(),
        "extra": [str(p) for p in scan.extra],
        "after": window.after,
        "before": window.before,
        "total": total,
        "diagnostics": [
            [d.path, d.line, d.message, d.severity.value, d.hint]
            for d in sorted(set(run.problems), key=Diagnostic.sort_key)
        ],
        "left_out": left_out_json(run.left_out),
    }
    run.remembered = (fast_name(run.options), value)
    cache.set_json(*run.remembered)


def _diagnostic_from_json(d: Any) -> Diagnostic:
    """A diagnostic as `remember` stored it (TypeError when it is not one)."""
    path, line, message, severity, hint = d
    if not (
        type(path) is str
        and (line is None or type(line) is int)
        and type(message) is str
        and (hint is None or type(hint) is str)
    ):
        raise TypeError("not a diagnostic")
    return Diagnostic(path, line, message, Severity(severity), hint)


def _quick_data_dir(root: Path) -> str | None:
    """The data directory commsite.yaml names (".commsite" unless it says), from a
    plain YAML read (the full config loader is not needed to find it). None when
    the file does not read."""
    import yaml

    try:
        data = yaml.load(
            read_input(root / "commsite.yaml"),
            Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader),
        )
    except (OSError, yaml.YAMLError):
        return None
    sidecar = data.get("sidecar") if isinstance(data, dict) else None
    data_dir = sidecar.get("data_dir") if isinstance(sidecar, dict) else None
    return data_dir if isinstance(data_dir, str) else ".commsite"


def on_disk(output: str | Path, path: str, size: int, mtime_ns: int) -> bool:
    """Whether the output file still has the size and time the build record says
    it was written with."""
    try:
        st = os.stat(f"{os.fspath(output)}/{path}")
    except OSError:
        return False
    return st.st_size == size and st.st_mtime_ns == mtime_ns
