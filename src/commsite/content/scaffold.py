"""The text of new content files: what `commsite new` and `commsite init` write.

Pure functions from values to text; reading the clock and the file system is
the CLI's job (commsite.cli.init_cmd, new_cmd). Every file made here follows the
content contract (shared spec, content-format.md): required keys are filled
in, optional keys are present as commented-out examples the organiser can
uncomment.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import yaml

__all__ = [
    "CI_CHOICES",
    "STARTER_BASE_URL",
    "STARTER_EVENT_DAY",
    "STARTER_HANDLE",
    "STARTER_HOST",
    "STARTER_MEMBERS",
    "STARTER_TODAY",
    "SlugError",
    "ci_files",
    "event_path",
    "event_text",
    "fill_ci",
    "fill_starter",
    "member_path",
    "member_text",
    "slugify",
    "starter_target",
    "story_path",
    "story_text",
    "yaml_list",
    "yaml_scalar",
]

# Letters that Unicode decomposition does not reduce to ASCII.
_FOLD = str.maketrans(
    {
        "ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
        "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d",
        "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ı": "i", "&": " and ",
    }
)  # fmt: skip
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
MAX_SLUG = 80


class SlugError(ValueError):
    """The title has no letters or digits to make a file name from."""


def slugify(text: str) -> str:
    """'Café Repair Day: Spring!' -> 'cafe-repair-day-spring'.

    Lowercase ASCII letters, digits and single hyphens; accents are folded
    (é -> e, ß -> ss); '&' becomes 'and'. At most 80 characters, cut at a
    hyphen. Raises SlugError when nothing is left.
    """
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")
    if len(slug) > MAX_SLUG:
        cut = slug[: MAX_SLUG + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:MAX_SLUG]
    if not slug:
        raise SlugError(f"cannot make a file name from {text!r}")
    return slug


# --- YAML values ---------------------------------------------------------------


def yaml_scalar(value: str, *, flow: bool = False) -> str:
    """`value` as a YAML scalar that reads back as the same string.

    Plain when that round-trips (inside a flow list when `flow`), otherwise
    double-quoted (JSON string syntax, which YAML's double quotes accept).
    """
    plain = value.strip() == value and value != "" and "\n" not in value and "#" not in value
    if plain:
        try:
            if flow:
                plain = yaml.safe_load(f"k: [{value}]") == {"k": [value]}
            else:
                plain = yaml.safe_load(f"k: {value}") == {"k": value}
        except yaml.YAMLError:
            plain = False
    return value if plain else json.dumps(value, ensure_ascii=False)


def yaml_list(values: Sequence[str]) -> str:
    """A flow list: [a, b, "c, d"]."""
    return "[" + ", ".join(yaml_scalar(v, flow=True) for v in values) + "]"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# --- file names ------------------------------------------------------------------


def story_path(slug: str, day: date) -> str:
    return f"content/stories/{day.isoformat()}-{slug}.md"


def event_path(slug: str, day: date) -> str:
    return f"content/events/{day.isoformat()}-{slug}.md"


def member_path(member_id: str) -> str:
    return f"content/members/{member_id}.md"


# --- new files -----------------------------------------------------------------------


NOTE_COLUMN = 36


def _note(line: str, note: str) -> str:
    """`line`, then `# note` lined up with the other notes."""
    return f"{line:<{NOTE_COLUMN}}# {note}" if len(line) < NOTE_COLUMN else f"{line}  # {note}"


def _front_matter(lines: Sequence[str], body: str) -> str:
    return "---\n" + "".join(line + "\n" for line in lines) + "---\n" + body


def story_text(
    title: str,
    day: date | datetime,
    *,
    authors: Sequence[str] = (),
    tags: Sequence[str] = (),
    event: str | None = None,
    draft: bool = False,
    example_member: str = "ada",
    example_event: str = "spring-repair-day",
) -> str:
    """A new story. `day` is a date, or a datetime written as is (no offset
    means the site's time zone)."""
    when = _iso(day) if isinstance(day, datetime) else day.isoformat()
    lines = [f"title: {yaml_scalar(title)}", f"date: {when}"]
    if len(authors) == 1:
        lines.append(f"author: {yaml_scalar(authors[0])}")
    elif authors:
        lines.append(f"authors: {yaml_list(authors)}")
    else:
        lines.append(_note(f"# authors: [{example_member}]", "member ids (content/members/ID.md)"))
    lines.append(f"tags: {yaml_list(tags)}" if tags else "# tags: [news]")
    lines.append(_note("# summary: One or two sentences.", "for lists, feeds and previews"))
    if event:
        lines.append(f"event: {yaml_scalar(event)}")
    else:
        lines.append(_note(f"# event: {example_event}", "this story is that event's recap"))
    lines.append(_note("# image: images/photo.jpg", "a picture under static/"))
    lines.append(_note("# image_alt: Two people fixing a bike", "what the picture shows"))
    lines.append(_note("# slug: a-shorter-address", "instead of the file name's"))
    if draft:
        lines.append(_note("draft: true", "remove this line to publish"))
    else:
        lines.append(_note("# draft: true", "keep it out of the site for now"))
    body = (
        "\nWrite your story here, in Markdown: **bold**, *italic*, [links](https://example.org/),\n"
        "lists, tables, footnotes and code blocks all work.\n"
    )
    return _front_matter(lines, body)


def member_text(
    name: str,
    joined: date,
    *,
    handle: str | None = None,
    pronouns: str | None = None,
    member_id: str = "member",
    interests: Sequence[str] = (),
    bio: str | None = None,
) -> str:
    """A new member profile; the body is the bio (`bio`, Markdown, or a stub)."""
    lines = [f"name: {yaml_scalar(name)}"]
    if handle:
        lines.append(f"handle: {json.dumps(handle, ensure_ascii=False)}")
    else:
        lines.append(
            _note('# handle: "@name@mastodon.example"', "their fediverse address, in quotes")
        )
    lines.append(f"pronouns: {yaml_scalar(pronouns)}" if pronouns else "# pronouns: they/them")
    lines += [
        f"interests: {yaml_list(interests)}"
        if interests
        else _note("# interests: [sewing, bicycles]", "members who share one are linked"),
        "# location: Eastfield",
        f"joined: {joined.isoformat()}",
        "# roles: [organiser, host]",
        "# links:",
        "#   Website: https://example.org/",
        _note(f"# avatar: images/members/{member_id}.png", "a square picture under static/"),
    ]
    first = name.split()[0] if name.split() else name
    body = f"\nA few lines about {first}: what they do, what they like to fix, make or share.\n"
    if bio:
        body = f"\n{bio.strip()}\n"
    return _front_matter(lines, body)


def event_text(
    title: str,
    start: datetime,
    *,
    end: datetime | None = None,
    location: str | None = None,
    online: str | None = None,
    hosts: Sequence[str] = (),
    tags: Sequence[str] = (),
    example_member: str = "ada",
) -> str:
    """A new event. Naive datetimes are written without an offset: the site's time zone."""
    lines = [f"title: {yaml_scalar(title)}", f"start: {_iso(start)}"]
    if end is not None:
        lines.append(f"end: {_iso(end)}")
    else:
        lines.append(f"# end: {_iso(start + timedelta(hours=2))}")
    if location:
        lines.append(f"location: {yaml_scalar(location)}")
    else:
        lines += [
            _note("# location:", "a place, or a name/address/url mapping:"),
            "#   name: Community Hall",
            "#   address: 12 Church Street",
            "#   url: https://example.org/hall",
        ]
    if online:
        lines.append(f"online: {yaml_scalar(online)}")
    else:
        lines.append(_note("# online: https://meet.example/our-room", "a link to join from home"))
    if hosts:
        lines.append(f"hosts: {yaml_list(hosts)}")
    else:
        lines.append(_note(f"# hosts: [{example_member}]", "member ids"))
    lines.append(_note("# capacity: 30", "how many people can come"))
    lines.append(_note("# status: cancelled", "or postponed; scheduled by default"))
    lines.append(f"tags: {yaml_list(tags)}" if tags else "# tags: [workshop]")
    lines.append(_note("# image: images/poster.jpg", "a picture under static/"))
    lines.append(_note("# image_alt: A poster with a bike and a sewing machine", "what it shows"))
    body = (
        "\nWhat will happen, who it is for and what to bring. After the event, write a\n"
        "recap story with `event:` set to this event's id.\n"
    )
    return _front_matter(lines, body)


# --- the starter repository copied by `commsite init` --------------------------------

# Dates in the starter's files that `init` replaces.
STARTER_TODAY = "2026-01-01"  # the story's date, members' joined, rules' updated
STARTER_EVENT_DAY = "2030-06-06"  # the event: four weeks after init
STARTER_TITLE = "My Community"
STARTER_HOST = "community.example"
STARTER_BASE_URL = f"https://{STARTER_HOST}/"
# The starter's sample members (content/members/) and example handle: `check`
# warns while they remain (content.placeholders).
STARTER_MEMBERS = ("Alex Organiser", "Sam Member")
STARTER_HANDLE = "@alex@mastodon.example"
EVENT_DAYS_AHEAD = 28


def starter_target(rel: str) -> str:
    """Where a starter file goes: 'dot-gitignore' -> '.gitignore'.

    Package data leaves out dotfiles, so the starter keeps them under a
    'dot-' name.
    """
    parts = rel.split("/")
    return "/".join("." + p[4:] if p.startswith("dot-") else p for p in parts)


def fill_starter(
    rel: str,
    text: str,
    *,
    title: str,
    base_url: str,
    today: date,
    timezone: str = "UTC",
    handle: str | None = None,
) -> str:
    """A starter file's text with the new site's title, address, handle, time zone
    and dates."""
    if rel == "commsite.yaml":
        if handle is not None:  # the starter has it commented out: "  # handle: ..."
            text = re.sub(
                r"(?m)^  # handle: .*$", lambda _: f"  handle: {yaml_scalar(handle)}", text, count=1
            )
        text = re.sub(r"(?m)^title: .*$", lambda _: f"title: {yaml_scalar(title)}", text, count=1)
        text = re.sub(
            r"(?m)^base_url: .*$", lambda _: f"base_url: {yaml_scalar(base_url)}", text, count=1
        )
        text = re.sub(
            r"(?m)^timezone: .*$", lambda _: f"timezone: {yaml_scalar(timezone)}", text, count=1
        )
        return text
    if rel.endswith(".md"):
        event_day = today + timedelta(days=EVENT_DAYS_AHEAD)
        text = text.replace(STARTER_TODAY, today.isoformat())
        text = text.replace(STARTER_EVENT_DAY, event_day.isoformat())
    return text


# --- the CI pipeline `commsite init --ci` adds -------------------------------------

CI_CHOICES = ("github", "gitlab", "none")
CI_FOLDER = "ci/"  # in the starter: ci/github/..., ci/gitlab/...; not copied as such
STARTER_BRANCH = "main"
STARTER_INSTALL = "commsite==0.1.0"  # what the templates' pip install names


def ci_files(rel: str, choice: str) -> str | None:
    """Where starter file `rel` goes for `--ci choice`: None for files of another
    choice; '.gitlab-ci.yml' for 'ci/gitlab/dot-gitlab-ci.yml'."""
    if not rel.startswith(CI_FOLDER):
        return starter_target(rel)
    prefix = f"{CI_FOLDER}{choice}/"
    if choice == "none" or not rel.startswith(prefix):
        return None
    return starter_target(rel[len(prefix) :])


def fill_ci(text: str, *, version: str, branch: str) -> str:
    """A CI template with the installed commsite's version and the repository's branch."""
    text = text.replace(STARTER_INSTALL, f"commsite=={version}")
    if branch != STARTER_BRANCH:
        text = re.sub(
            r"(?m)^(    branches: )\[main\]$",
            lambda m: f"{m.group(1)}[{yaml_scalar(branch, flow=True)}]",
            text,
        )
    return text
