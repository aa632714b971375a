"""(being written)"""

import click


@click.command()
def build() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")


@click.command()
def check() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")

