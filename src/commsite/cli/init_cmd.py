"""`commsite init`: a new content repository, from the starter site.

The text of every file comes from commsite.content.scaffold; this module reads
the clock, the starter package data and the folder, writes, and prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import click

from commsite import __version__
from commsite.content import scaffold
from commsite.content.zones import zone_hint

__all__ = ["init"]


def _starter_files(root: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """(path relative to the starter, file) for every file in the starter, sorted."""
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__" or entry.name.endswith(".pyc"):
            continue
        rel = f"{prefix}{entry.name}"
        if entry.is_dir():
            yield from _starter_files(entry, rel + "/")
        else:
            yield rel, entry


def _title_from_folder(folder: Path) -> str:
    words = re.split(r"[-_\s]+", folder.resolve().name)
    title = " ".join(w[:1].upper() + w[1:] for w in words if w)
    return title or scaffold.STARTER_TITLE


def _check_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(
            f"{value!r} is not an absolute http(s) URL; give the address the site "
            "will be published at, e.g. https://fixers.example/",
            param_hint="'--base-url'",
        )
    if parts.query or parts.fragment:
        raise click.BadParameter(
            f"{value!r} has a query or fragment; give just the site's address",
            param_hint="'--base-url'",
        )
    return value if value.endswith("/") else value + "/"


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ValueError, OSError, KeyError):
        raise click.BadParameter(
            f"{value!r} is not a time zone; {zone_hint(value)}", param_hint="'--timezone'"
        ) from None
    return value


def _check_handle(value: str | None) -> str | None:
    """--handle: the user part only, in a-z, 0-9 and '_' (what derive_handle makes)."""
    if value is None:
        return None
    name = value.strip()
    user = re.fullmatch(r"@?([^@]+)@.*", name)
    if user is not None:
        raise click.BadParameter(
            f"{value!r} is a whole handle; give only the user part, e.g. {user.group(1)!r}"
            " (the host comes from --base-url)",
            param_hint="'--handle'",
        )
    if not re.fullmatch(r"[a-z0-9_]+", name):
        suggestion = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
        also = f", e.g. {suggestion!r}" if suggestion else ""
        raise click.BadParameter(
            f"{value!r} is not a handle; use lowercase a-z, 0-9 and _{also}",
            param_hint="'--handle'",
        )
    return name


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--title",
    metavar="TEXT",
    help="The community's name. [default: made from DIRECTORY's name]",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="The address the site will be published at (your fediverse handle's host)."
    f" [default: the placeholder {scaffold.STARTER_BASE_URL}, to replace before publishing]",
)
@click.option(
    "--handle",
    metavar="NAME",
    callback=lambda ctx, param, value: _check_handle(value),
    help="The user part of the community's fediverse handle (a-z, 0-9 and _)."
    " [default: made from the title]",
)
@click.option(
    "--timezone",
    metavar="ZONE",
    default="UTC",
    show_default=True,
    help="The IANA time zone your events happen in, e.g. Europe/London.",
)
@click.option(
    "--ci",
    type=click.Choice(scaffold.CI_CHOICES),
    default="github",
    show_default=True,
    help="The pipeline that checks, builds, deploys and announces on every push:"
    " .github/workflows/commsite.yml (GitHub Pages) or .gitlab-ci.yml (GitLab Pages)."
    " An existing file is never replaced.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a folder that is not empty (starter files replace same-named ones).",
)
def init(
    directory: Path,
    title: str | None,
    base_url: str | None,
    handle: str | None,
    timezone: str,
    ci: str,
    force: bool,
) -> None:
    """Make DIRECTORY a new commsite content repository.

    Copies a small, valid starter site into DIRECTORY (created if needed):
    commsite.yaml, one story, two members, one upcoming event, the rules, an
    about page, static/, a .gitignore and a CI pipeline (--ci). Nothing is
    asked interactively; the options fill in the title, address and time
    zone, and you can change them later in commsite.yaml.

    \b
    Examples:
      commsite init my-community
      commsite init fixers --title "Fixers of Eastfield" --handle fixers \\
          --base-url https://fixers.example/ --timezone Europe/London
      commsite init my-community --ci gitlab
    """
    placeholder = base_url is None
    base_url = _check_base_url(scaffold.STARTER_BASE_URL if base_url is None else base_url)
    timezone = _check_timezone(timezone)
    title = title.strip() if title is not None else _title_from_folder(directory)
    if not title:
        raise click.BadParameter("the title cannot be empty", param_hint="'--title'")
    if directory.exists():
        if not directory.is_dir():
            raise click.ClickException(f"{directory} exists and is not a folder")
        # A fresh `git init` or `git clone` of an empty repository counts as empty.
        existing = sorted(p.name for p in directory.iterdir() if p.name != ".git")
        if existing and not force:
            shown = ", ".join(existing[:3]) + (", ..." if len(existing) > 3 else "")
            raise click.ClickException(
                f"{directory} is not empty (it has {shown}); choose a new folder, "
                "or pass --force to add the starter files to it"
            )
    today = datetime.now(ZoneInfo(timezone)).date()
    starter = resources.files("commsite").joinpath("starter")
    written: list[str] = []
    kept: list[str] = []
    branch = _git_branch(directory)
    for rel, entry in _starter_files(starter):
        found = scaffold.ci_files(rel, ci)
        if found is None:
            continue
        target_rel = found
        if rel != target_rel and rel.startswith("ci/"):
            text = scaffold.fill_ci(entry.read_text("utf-8"), version=__version__, branch=branch)
            (directory / target_rel).parent.mkdir(parents=True, exist_ok=True)
            try:  # never replaced, even with --force (nor written through a link)
                with (directory / target_rel).open("x", encoding="utf-8") as pipeline:
                    pipeline.write(text)
            except FileExistsError:
                kept.append(target_rel)
                continue
            written.append(target_rel)
            continue
        data = entry.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            out = data
        else:
            text = scaffold.fill_starter(
                rel,
                text,
                title=title,
                base_url=base_url,
                today=today,
                timezone=timezone,
                handle=handle,
            )
            out = text.encode("utf-8")
        target = directory / target_rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(out)
        written.append(target_rel)
    if not written:
        raise click.ClickException("the starter site is missing from this installation")
    host = urlsplit(base_url).netloc
    chosen = handle is not None
    handle = handle or _default_handle(title)
    click.echo(f"Created {title!r} in {directory}/ ({len(written)} files).")
    if placeholder:
        click.echo(
            f"Its address is a placeholder, {base_url}: set base_url in commsite.yaml to the"
            " address the site will be published at before you publish (`commsite check`"
            " warns until you do)."
        )
    else:
        click.echo(f"Its fediverse address will be @{handle}@{host}.")
    if not chosen and len(handle) > LONG_HANDLE:
        click.echo(
            f"The handle {handle!r}, made from the title, is long to type: choose a shorter"
            " one with 'handle:' under 'community:' in commsite.yaml (or `init --handle`)."
        )
    click.echo("Replace the sample members in content/members/ (Alex and Sam) with real ones.")
    for rel in kept:
        click.echo(f"Kept your {rel}: the commsite pipeline was not written (see docs/deploy.md).")
    ci_file = next((r for r in written if r.startswith((".github/", ".gitlab-ci"))), None)
    if ci_file is not None:
        where = "GitHub" if ci == "github" else "GitLab"
        click.echo(
            f"{ci_file} builds and deploys the site to {where} Pages on every push to"
            f" '{branch}' (docs/deploy.md: the settings and the secret it needs)."
        )
    click.echo("")
    click.echo("Next steps:")
    click.echo(f"  cd {_shell_word(str(directory))}")
    git_init = "" if (directory / ".git").exists() else "git init && "
    click.echo(f"  {git_init}git add . && git commit -m 'A new community site'")
    click.echo("  commsite keys generate     # the key pair that signs what the community sends")
    click.echo("  commsite serve             # preview at http://127.0.0.1:8000/ while you edit")
    click.echo("")
    click.echo("Then edit commsite.yaml and the files in content/, and add more with")
    click.echo('  commsite new story "Our first repair café"')
    click.echo("")
    click.echo("Replies, introductions, likes and boosts from the fediverse arrive through the")
    click.echo("sidecar (docs/sidecar.md): approve them there, then `commsite interactions export`")
    click.echo("writes them to interactions/ to review and commit, and the next build shows them.")
    click.echo("RSVPs to events (a reply saying going, a poll vote, a Join) come the same way.")


LONG_HANDLE = 20  # characters; longer ones are hard to type into a search box


def _git_branch(directory: Path) -> str:
    """The branch a Git repository in `directory` is on ('main' when there is none)."""
    try:
        head = (directory / ".git" / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return "main"
    branch = head.removeprefix("ref: refs/heads/")
    return branch if branch != head and re.fullmatch(r"[\w./-]+", branch) else "main"


def _default_handle(title: str) -> str:
    """The handle config_loader derives from the title when none is set."""
    from commsite.content.config_loader import derive_handle

    return derive_handle(title)


def _shell_word(text: str) -> str:
    return (
        text if re.fullmatch(r"[A-Za-z0-9_./-]+", text) else "'" + text.replace("'", "'\\''") + "'"
    )
