"""`python -m commsite`: the same as the `commsite` command."""

from commsite.cli import run

run()
