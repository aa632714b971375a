"""(being written)"""

import click


@click.command()
def init() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")


@click.command()
def new() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")

