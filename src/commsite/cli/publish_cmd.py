"""(being written)"""

import click


@click.command()
def publish() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")

