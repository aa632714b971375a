"""(being written)"""

import click


@click.command()
def keys() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")


