"""`commsite keys`: the community actor's signing key pair."""

from __future__ import annotations

import re
from pathlib import Path

import click

from commsite.cli.site_arg import site_argument
from commsite.content.config_loader import load_config
from commsite.datadir import PUBLIC_KEY_PATH, DataDir
from commsite.errors import CommsiteError
from commsite.federation.keys import (
    MIN_BITS,
    generate_keypair,
    key_id,
    load_private_key,
    public_key_pem,
    write_keys,
)

CONFIG_FILE = "commsite.yaml"

SITE = site_argument()


def _require_site(root: Path) -> None:
    """Refuse a folder that is not a site, so a mistyped path never gets a key pair."""
    if not root.is_dir():
        raise click.ClickException(f"{root}: no such directory; give the site's folder")
    if not (root / CONFIG_FILE).is_file():
        raise click.ClickException(
            f"{root} has no {CONFIG_FILE}, so it is not a commsite site; run this in your "
            "site's folder, give the site's folder, or make one with `commsite init DIR`"
        )


def _site_arg(root: Path) -> str:
    """` SITE` for a command line to print, or nothing for the current folder."""
    return "" if root == Path(".") else f" {_shell_word(str(root))}"


def _shell_word(text: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./-]+", text):
        return text
    return "'" + text.replace("'", "'\\''") + "'"


def _data_dir(root: Path) -> DataDir:
    """The configured data directory when commsite.yaml reads; the default one otherwise."""
    config, _ = load_config(root)
    return DataDir.for_site(root, config.sidecar.data_dir if config else ".commsite")


@click.group()
def keys() -> None:
    """The key pair that signs what the community sends to the fediverse.

    \b
    The private key stays in the data directory (.commsite/, never committed);
    the public key is committed at federation/public-key.pem and published in
    the actor document.

    \b
    Examples:
      commsite keys generate                 once, in the site's folder
      commsite keys show example_site        the public key and its key id
    """


@keys.command()
@SITE
@click.option("--bits", default=MIN_BITS, show_default=True, help="RSA key size (at least 2048).")
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing key pair (breaks federation "
    "until followers' servers refetch the key).",
)
def generate(site: Path, bits: int, force: bool) -> None:
    """Make the community's key pair.

    Writes the private key to the data directory (.commsite/private-key.pem,
    readable by you only; back it up, never commit it) and the public key to
    federation/public-key.pem (commit it: every build publishes it). Without a
    key, `commsite build` leaves out the fediverse account and `commsite
    publish` cannot sign.

    \b
    Examples:
      commsite keys generate
      commsite keys generate my-community --bits 4096
    """
    _require_site(site)
    try:
        private, public = write_keys(
            site, generate_keypair(bits), force=force, data_dir=_data_dir(site)
        )
    except CommsiteError as exc:
        raise click.ClickException(str(exc)) from exc
    public_rel = public.relative_to(site).as_posix()
    git = f"git -C {_shell_word(str(site))}" if site != Path(".") else "git"
    click.echo(
        f"private key: {private} (mode 600; keep it secret and back it up — never commit it)"
    )
    click.echo(f"public key:  {public}")
    click.echo("Commit the public key, so every build publishes it, then build:")
    click.echo(f"  {git} add {public_rel} && {git} commit -m 'Federation key'")
    click.echo(f"  commsite build{_site_arg(site)}")


@keys.command()
@SITE
def show(site: Path) -> None:
    """Print the public key and its key id.

    The key id is what servers fetch to check the community's signatures; a
    warning says when federation/public-key.pem does not match the private key.

    \b
    Examples:
      commsite keys show
      commsite keys show example_site
    """
    _require_site(site)
    config, _ = load_config(site)
    public_path = site / PUBLIC_KEY_PATH
    if not public_path.exists():
        raise click.ClickException(
            f"no public key at {public_path}; run `commsite keys generate{_site_arg(site)}`"
        )
    pem = public_path.read_text(encoding="ascii")
    if config is not None:
        click.echo(f"key id: {key_id(config)}")
    else:
        click.echo("key id: unknown (commsite.yaml has errors; run `commsite check`)")
    data = DataDir.for_site(site, config.sidecar.data_dir if config else ".commsite")
    if data.private_key.exists():
        try:
            if public_key_pem(load_private_key(site, data_dir=data)) != pem:
                click.echo(
                    f"warning: {PUBLIC_KEY_PATH} does not match the private key in {data.path}",
                    err=True,
                )
        except CommsiteError as exc:
            click.echo(f"warning: {exc}", err=True)
    click.echo(pem, nl=False)
