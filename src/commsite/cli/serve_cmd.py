"""(being written)"""

import click


@click.command()
def serve() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")

