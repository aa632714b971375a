"""(being written)"""

import click


@click.command()
def sidecar() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")


@click.command()
def moderate() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")


@click.command()
def interactions() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")

