"""The `commsite` group: commands in the order of the work, and a nearest-name
suggestion for a mistyped one."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from commsite.cli import COMMANDS, main, summary

WORKFLOW = [
    "init",
    "new",
    "check",
    "build",
    "serve",
    "keys",
    "publish",
    "sidecar",
    "moderate",
    "interactions",
    "report",
]


def test_help_lists_commands_in_workflow_order() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    commands = result.output.split("Commands:\n", 1)[1]
    listed = [m.group(1) for m in re.finditer(r"^  (\S+)", commands, re.MULTILINE)]
    assert listed == WORKFLOW


@pytest.mark.parametrize("name", WORKFLOW)
def test_the_help_summary_is_the_commands_own(name: str) -> None:
    """--help lists SUMMARIES, not the commands' help (which needs their modules):
    each must be what click makes of the command's help, at every width."""
    command = getattr(importlib.import_module(COMMANDS[name]), name)
    assert isinstance(command, click.Command)
    for limit in range(20, 120):
        assert summary(name, limit) == command.get_short_help_str(limit), (name, limit)


# What the start of every `commsite` process must not import: the command
# modules, and the heavy libraries that only some commands need.
NOT_AT_START = (
    "PIL",
    "pagefind",
    "jinja2",
    "markdown_it",
    "yaml",
    "requests",
    "cryptography",
    "importlib.metadata",
    "commsite.sidecar",
    "commsite.build",
    "commsite.cli.build_cmd",
)


def _imported_by(code: str) -> set[str]:
    """The modules of NOT_AT_START that a new Python process running `code` imported."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(done.stdout.split())
    return {m for m in NOT_AT_START if m in loaded}


def test_importing_the_cli_imports_nothing_heavy() -> None:
    assert _imported_by("import commsite.cli") == set()


def test_help_and_version_import_no_command() -> None:
    for flag in ("--help", "--version"):
        code = (
            "from commsite.cli import main\n"
            "try:\n"
            f"    main([{flag!r}])\n"
            "except SystemExit as exit:\n"
            "    assert exit.code == 0\n"
        )
        assert _imported_by(code) == ({"importlib.metadata"} if flag == "--version" else set())


def test_version_is_the_installed_one() -> None:
    from importlib.metadata import version

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"commsite, version {version('commsite')}\n"


def test_a_mistyped_command_suggests_the_nearest() -> None:
    result = CliRunner().invoke(main, ["biuld"])
    assert result.exit_code == 2
    assert "Error: No such command 'biuld'. Did you mean 'build'?" in result.output
    assert "Did you mean 'publish'?" in CliRunner().invoke(main, ["pubish"]).output


def test_an_unknown_command_with_nothing_near_gets_no_suggestion() -> None:
    result = CliRunner().invoke(main, ["zzz"])
    assert result.exit_code == 2
    assert "Error: No such command 'zzz'.\n" in result.output
    assert "Did you mean" not in result.output


def test_options_and_real_commands_still_resolve() -> None:
    assert CliRunner().invoke(main, ["--bogus"]).exit_code == 2
    assert "No such option '--bogus'" in CliRunner().invoke(main, ["--bogus"]).output
    result = CliRunner().invoke(main, ["check", "--help"], prog_name="commsite")
    assert result.exit_code == 0
    assert result.output.startswith("Usage: commsite check ")


SITE_COMMANDS = [
    "new",
    "check",
    "build",
    "serve",
    "keys generate",
    "keys show",
    "publish",
    "sidecar",
    "moderate list",
    "moderate approve",
    "moderate reject",
    "moderate block-actor",
    "moderate block-domain",
    "moderate log",
    "interactions export",
]


def test_every_command_that_takes_a_site_takes_it_as_its_last_argument() -> None:
    for command in SITE_COMMANDS:
        result = CliRunner().invoke(main, [*command.split(), "--help"], prog_name="commsite")
        assert result.exit_code == 0, (command, result.output)
        usage = result.output.splitlines()[0]
        assert usage.endswith(" [SITE]"), usage


def test_site_is_also_accepted_as_the_option_it_used_to_be(tmp_path: Path) -> None:
    shutil.copytree(Path(__file__).parent / "fixtures" / "valid_min", tmp_path / "site")
    site = str(tmp_path / "site")
    for args in (["check", site], ["check", "--site", site], ["check", "-s", site, site]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
    clash = CliRunner().invoke(main, ["check", site, "--site", str(tmp_path)])
    assert clash.exit_code == 2
    assert "the site is given twice, as SITE" in clash.output


def test_a_build_in_its_own_process_is_frozen_not_collected(tmp_path: Path) -> None:
    """The `commsite` program (`run`) ends after its build: what the build made is
    frozen, so no collection walks it. Invoked in a process that goes on (a test,
    through `main`), the build leaves the collector as it found it."""
    shutil.copytree(Path(__file__).parent / "fixtures" / "valid_min", tmp_path / "site")
    site = str(tmp_path / "site")
    code = (
        "import gc, sys\n"
        "from commsite.cli import run\n"
        "sys.argv = ['commsite', 'build', '-q', sys.argv[1]]\n"
        "gc.collect()\n"
        "try:\n"
        "    run()\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 10000)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, site], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]

    import gc
    import threading

    alone = threading.active_count() == 1  # (beside threads, every build freezes: run.py)
    frozen = gc.get_freeze_count()
    result = CliRunner().invoke(main, ["build", "-q", site])
    assert result.exit_code == 0, result.output
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen or not alone
