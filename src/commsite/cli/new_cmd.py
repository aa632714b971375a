"""`commsite new`: a new story, member profile or event file in a site.

The text of every file comes from commsite.content.scaffold; this module reads
the clock, the starter package data and the site folder, writes, and prints.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import click
import yaml

from commsite.cli.site_arg import site_argument
from commsite.content import scaffold
from commsite.content.config_loader import CONFIG_FILE
from commsite.content.fields import unknown_id_hint
from commsite.content.zones import zone_hint

__all__ = ["new"]

KINDS = ("story", "member", "event")


def _site_timezone(site: Path) -> ZoneInfo:
    """The site's time zone from commsite.yaml (UTC when unset); errors are the CLI's."""
    config = site / CONFIG_FILE
    if not config.is_file():
        raise click.ClickException(
            f"{site} has no {CONFIG_FILE}, so it is not a commsite site; run this in your "
            "site's folder, name the folder after the title (commsite new KIND TITLE SITE),"
            " or make one with `commsite init DIR`"
        )
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise click.ClickException(
            f"{config} cannot be read ({exc.__class__.__name__}); run `commsite check {site}`"
        ) from None
    name = data.get("timezone", "UTC") if isinstance(data, dict) else "UTC"
    try:
        return ZoneInfo(str(name))
    except (ValueError, OSError, KeyError):
        raise click.ClickException(
            f"{config}: 'timezone' is not a time zone (got {name!r}); {zone_hint(str(name))}"
        ) from None


def _ids(site: Path, folder: str) -> list[str]:
    """Member or event ids already in the site (file stems, date prefix dropped)."""
    directory = site / "content" / folder
    if not directory.is_dir():
        return []
    stems = sorted(p.stem for p in directory.glob("*.md") if not p.name.startswith("."))
    return [re.sub(r"^\d{4}-\d\d-\d\d-(?=.)", "", s) for s in stems]


def _parse_date(value: str | None) -> date | None:
    """--date: YYYY-MM-DD, with the reason when it is the right shape but no date."""
    if value is None:
        return None
    text = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise click.BadParameter(
            f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2027-06-19", param_hint="'--date'"
        )
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not a date ({exc}); use YYYY-MM-DD", param_hint="'--date'"
        ) from None


def _parse_time(value: str, option: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise click.BadParameter(
            f"{value!r} is not a time; use HH:MM, e.g. 18:30", param_hint=option
        )
    return time(int(match.group(1)), int(match.group(2)))


def _check_ids(given: tuple[str, ...], known: list[str], what: str, option: str) -> None:
    for item in given:
        if known and item not in known:
            folder = "members" if what == "member" else "events"
            raise click.BadParameter(
                f"there is no {what} {item!r}; {unknown_id_hint(item, known, what, folder)}",
                param_hint=option,
            )


NEW_HELP = """Create a story, member profile or event file with its front matter filled in.

\b
KIND is story, member or event; TITLE is the story's or event's title, or
the member's name, in quotes when it has spaces; SITE is the site's folder
(default: this folder), last as for every command. The file name is made
from the title (lowercase ASCII, accents folded) and, for stories and
events, the date:
  content/stories/YYYY-MM-DD-SLUG.md
  content/members/SLUG.md          (the member's id)
  content/events/YYYY-MM-DD-SLUG.md
With --from-introduction N (its number in `commsite moderate`, its id, or
its exported file), a member's name, handle, interests (the hashtags) and a
bio stub come from the introduction, and TITLE may be left out.
The date is today in the site's time zone unless you pass --date. Required
keys are set; the optional ones are there as comments to uncomment. An
existing file is never overwritten. The new file's path is printed.

\b
Examples:
  commsite new story "Spring repair day: the results"
  commsite new story "Tea & soldering" --author ada-okafor --tag recap --event tea-and-soldering
  commsite new member "Zoë Ångström" --handle @zoe@mastodon.example
  commsite new member --from-introduction 12     the newcomer of introduction #12
  commsite new member --from-introduction interactions/introductions/3f2a9c1b0d4e.md
  commsite new event "Bike clinic" --date 2027-06-19 --time 09:30 --end 13:00
  commsite new story "Plans" example_site --draft
"""


@click.command(help=NEW_HELP, short_help="Create a new story, member or event file.")
@click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
@click.argument("title", required=False, metavar="TITLE")
@site_argument()
@click.option(
    "--date",
    "day",
    callback=lambda ctx, param, value: _parse_date(value),
    metavar="YYYY-MM-DD",
    help="The story's date, the event's day or the member's joined date. [default: today]",
)
@click.option("--slug", help="The file name (and id) to use instead of one made from TITLE.")
@click.option(
    "--author",
    "authors",
    multiple=True,
    metavar="ID",
    help="story: a member id as author (repeat for several).",
)
@click.option("--tag", "tags", multiple=True, help="story, event: a tag (repeat for several).")
@click.option("--event", "event", metavar="ID", help="story: the event this story is a recap of.")
@click.option("--draft", is_flag=True, help="story: mark it draft (left out of builds).")
@click.option("--handle", metavar="@USER@HOST", help="member: their fediverse handle.")
@click.option(
    "--from-introduction",
    "introduction",
    metavar="N",
    help="member: prefill from an introduction: its number in `commsite moderate`, its id,"
    " or its file in interactions/introductions/. TITLE (the name) is then optional.",
)
@click.option(
    "--time",
    "start_time",
    default="18:00",
    show_default=True,
    metavar="HH:MM",
    help="event: the start time, in the site's time zone.",
)
@click.option("--end", "end_time", metavar="HH:MM", help="event: the end time, the same day.")
@click.option("--location", help="event: where it happens.")
@click.option("--online", metavar="URL", help="event: a link to join online.")
@click.option(
    "--host", "hosts", multiple=True, metavar="ID", help="event: a host's member id (repeatable)."
)
def new(
    kind: str,
    title: str | None,
    site: Path,
    day: date | None,
    slug: str | None,
    authors: tuple[str, ...],
    tags: tuple[str, ...],
    event: str | None,
    draft: bool,
    handle: str | None,
    start_time: str,
    end_time: str | None,
    location: str | None,
    online: str | None,
    hosts: tuple[str, ...],
    introduction: str | None,
) -> None:
    if introduction is not None:
        if kind != "member":
            raise click.UsageError(f"--from-introduction cannot be used with `commsite new {kind}`")
        if title is not None and site == Path(".") and (Path(title) / CONFIG_FILE).is_file():
            site, title = Path(title), None  # `new member --from-introduction 3 SITE`
        _new_member_from_introduction(site, introduction, title, day, slug, handle)
        return
    if title is None:
        raise click.UsageError(
            "Missing argument 'TITLE' (or, for a member, --from-introduction N)."
        )
    title = title.strip()
    if not title:
        raise click.BadParameter("the title cannot be empty", param_hint="'TITLE'")
    _reject_options(kind, authors, tags, event, draft, handle, end_time, location, online, hosts)
    zone = _site_timezone(site)
    when: date = day if day is not None else datetime.now(zone).date()
    try:
        name = scaffold.slugify(slug if slug else title)
    except scaffold.SlugError:
        raise click.BadParameter(
            f"cannot make a file name from {title!r}; pass one with --slug", param_hint="'TITLE'"
        ) from None
    members = _ids(site, "members")
    example_member = members[0] if members else "ada"
    if kind == "story":
        _check_ids(authors, members, "member", "'--author'")
        events = _ids(site, "events")
        if event is not None:
            _check_ids((event,), events, "event", "'--event'")
        rel = scaffold.story_path(name, when)
        text = scaffold.story_text(
            title,
            when,
            authors=authors,
            tags=tags,
            event=event,
            draft=draft,
            example_member=example_member,
            example_event=events[-1] if events else "spring-repair-day",
        )
    elif kind == "member":
        if handle is not None and not re.fullmatch(r"@[^@\s]+@[^@\s]+", handle):
            raise click.BadParameter(
                f"{handle!r} is not a fediverse handle; write it as @user@host",
                param_hint="'--handle'",
            )
        rel = scaffold.member_path(name)
        text = scaffold.member_text(title, when, handle=handle, member_id=name)
    else:
        _check_ids(hosts, members, "member", "'--host'")
        start = datetime.combine(when, _parse_time(start_time, "'--time'"))
        end = None
        if end_time is not None:
            end = datetime.combine(when, _parse_time(end_time, "'--end'"))
            if end <= start:
                raise click.BadParameter(
                    f"the end ({end_time}) is not after the start ({start_time}); for an event "
                    "that ends after midnight, edit 'end' in the file",
                    param_hint="'--end'",
                )
        if online is not None and urlsplit(online).scheme not in ("http", "https"):
            raise click.BadParameter(f"{online!r} is not an http(s) URL", param_hint="'--online'")
        rel = scaffold.event_path(name, when)
        text = scaffold.event_text(
            title,
            start,
            end=end,
            location=location,
            online=online,
            hosts=hosts,
            tags=tags,
            example_member=example_member,
        )
    _write_new(site / rel, text)


def _write_new(target: Path, text: str) -> None:
    """Write a new file; never over an existing one. Prints its path."""
    if target.exists():
        raise click.ClickException(
            f"{target} already exists; edit it, or choose another name with --slug"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8", newline="\n") as out:
        out.write(text)
    click.echo(str(target))


def _new_member_from_introduction(
    site: Path,
    ref: str,
    name: str | None,
    day: date | None,
    slug: str | None,
    handle: str | None,
) -> None:
    """`commsite new member --from-introduction REF`: the newcomer's profile, prefilled."""
    from commsite.cli.from_introduction import find_newcomer
    from commsite.content.member_match import normal_handle
    from commsite.content.newcomer import member_file

    zone = _site_timezone(site)
    intro = find_newcomer(site, ref, zone)
    if handle is not None:
        intro = dataclasses.replace(intro, handle=handle)
    if intro.handle is not None and normal_handle(intro.handle) is None:
        intro = dataclasses.replace(intro, handle=None)  # an actor URL is no handle
    shown = (name or "").strip() or intro.name
    try:
        member_id = scaffold.slugify(slug or shown)
    except scaffold.SlugError:
        fallback = (intro.handle or "").lstrip("@").split("@")[0]
        try:
            member_id = scaffold.slugify(slug or fallback)
        except scaffold.SlugError:
            raise click.BadParameter(
                f"cannot make a file name from {shown!r}; pass one with --slug",
                param_hint="'--from-introduction'",
            ) from None
    known = _member_with_handle(site, intro.handle)
    if known is not None:
        raise click.ClickException(
            f"{intro.handle} is already a member: content/members/{known}.md"
        )
    config = _community_handles(site)
    text = member_file(intro, name=shown, joined=day, member_id=member_id, community_handles=config)
    _write_new(site / scaffold.member_path(member_id), text)


def _member_with_handle(site: Path, handle: str | None) -> str | None:
    """The id of the member already listed with `handle`, if any (and the site loads)."""
    if not handle:
        return None
    from commsite.content.loader import load_site
    from commsite.content.member_match import MemberMatcher

    loaded, _ = load_site(site, now=datetime.now(ZoneInfo("UTC")))
    if loaded is None:
        return None
    return MemberMatcher.of(loaded.members).match(handle)


def _community_handles(site: Path) -> tuple[str, ...]:
    from commsite.content.config_loader import load_config

    config, _ = load_config(site)
    if config is None:
        return ()
    return (config.fediverse_handle, f"@{config.community.handle}")


def _reject_options(
    kind: str,
    authors: tuple[str, ...],
    tags: tuple[str, ...],
    event: str | None,
    draft: bool,
    handle: str | None,
    end_time: str | None,
    location: str | None,
    online: str | None,
    hosts: tuple[str, ...],
) -> None:
    """Options given for another kind of file are mistakes: say so rather than drop them."""
    allowed = {
        "story": {"--author", "--tag", "--event", "--draft"},
        "member": {"--handle"},
        "event": {"--tag", "--end", "--location", "--online", "--host"},
    }[kind]
    given = {
        "--author": bool(authors),
        "--tag": bool(tags),
        "--event": event is not None,
        "--draft": draft,
        "--handle": handle is not None,
        "--end": end_time is not None,
        "--location": location is not None,
        "--online": online is not None,
        "--host": bool(hosts),
    }
    wrong = [opt for opt, used in given.items() if used and opt not in allowed]
    if wrong:
        raise click.UsageError(f"{', '.join(wrong)} cannot be used with `commsite new {kind}`")
