"""The `commsite` group: commands in the order of the work, and a nearest-name
suggestion for a mistyped one."""

from __future__ import annotations

import re

from click.testing import CliRunner

from commsite.cli import main

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
]


def test_help_lists_commands_in_workflow_order() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    commands = result.output.split("Commands:\n", 1)[1]
    listed = [m.group(1) for m in re.finditer(r"^  (\S+)", commands, re.MULTILINE)]
    assert listed == WORKFLOW


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
