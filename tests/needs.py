"""External tools some tests need: skip with a printed reason, but fail when CI=true.

`.ci/run` installs every one of them, so on CI a missing tool is a broken
install, not a reason to skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ON_CI = os.environ.get("CI") == "true"
JS_DIR = Path(__file__).parent / "js"
NODE_MODULES = JS_DIR / "node_modules"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Headless Chromium as root on a machine with no outside network: no sandbox, no
# GPU, and none of the background connections that would only be refused.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require(ok: bool, reason: str) -> None:
    """Skip (printing why) unless `ok`; on CI, fail instead."""
    if ok:
        return
    if ON_CI:
        pytest.fail(f"{reason} (CI=true: .ci/run should have installed it)", pytrace=False)
    print(f"SKIP: {reason}")
    pytest.skip(reason)


def executable(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"'{name}' is not installed")
    assert path is not None
    return path


def node_package(name: str) -> Path:
    executable("node")
    path = NODE_MODULES / name
    require(path.exists(), f"npm package {name} is missing: run `npm ci --prefix tests/js`")
    return path


def chromium() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    require(False, "Chromium is not installed (Debian package 'chromium')")
    raise AssertionError("unreachable")
