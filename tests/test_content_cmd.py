"""`commsite init` and `commsite new`, run through the real CLI, and the scaffold text."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner, Result

from commsite.cli import main
from commsite.content import scaffold
from commsite.content.loader import load_site

# --- helpers ---------------------------------------------------------------------------


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def front_matter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), text
    end = text.index("\n---\n", 4)
    data = yaml.safe_load(text[4:end])
    assert isinstance(data, dict), text
    return data


STARTER_MEMBER_WARNINGS = [
    "content/members/alex-organiser.md:2: warning: Alex Organiser is the starter's sample"
    " member; replace the name, handle and text with a real member's (and rename the file to"
    " their id), or delete the file",
    "content/members/alex-organiser.md:3: warning: the handle @alex@mastodon.example is the"
    " starter's example, nobody's account; write the member's own handle, e.g."
    ' "@ada@mastodon.social", or remove the line',
    "content/members/sam-member.md:2: warning: Sam Member is the starter's sample member;"
    " replace the name, handle and text with a real member's (and rename the file to their"
    " id), or delete the file",
]


def assert_loads_cleanly(root: Path, **kwargs: bool) -> None:
    """No problems but the starter's placeholders, which stay warnings until replaced."""
    site, diagnostics = load_site(root, now=datetime.now(UTC), **kwargs)
    found = [d.format() for d in diagnostics if d.format() not in STARTER_MEMBER_WARNINGS]
    assert found == []
    assert site is not None


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "fixers"
    result = run(
        "init",
        root,
        "--title",
        "Fixers of Eastfield",
        "--base-url",
        "https://fixers.example",
        "--timezone",
        "Europe/London",
    )
    assert result.exit_code == 0, result.output
    return root


# --- slugs and YAML values -------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Spring repair day", "spring-repair-day"),
        ("Café Repair Day: Spring!", "cafe-repair-day-spring"),
        ("Zoë Ångström-Łukasz", "zoe-angstrom-lukasz"),
        ("Straße & Søn", "strasse-and-son"),
        ('"Tea & <soldering>": a night to remember', "tea-and-soldering-a-night-to-remember"),
        ("  --Hello,   World--  ", "hello-world"),
        ("Ça va? Ñandú ÆON", "ca-va-nandu-aeon"),
        ("2027 plans", "2027-plans"),
        ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert scaffold.slugify(title) == slug


def test_slugify_long_titles_are_cut_at_a_hyphen() -> None:
    slug = scaffold.slugify("word " * 40)
    assert len(slug) <= scaffold.MAX_SLUG
    assert not slug.endswith("-")
    assert set(slug) <= set("word-")


@pytest.mark.parametrize("title", ["🎉", "日本語", "---", ""])
def test_slugify_refuses_titles_without_ascii(title: str) -> None:
    with pytest.raises(scaffold.SlugError):
        scaffold.slugify(title)


TRICKY = [
    "plain words",
    "yes",
    "null",
    "2026-01-01",
    "42",
    '"quoted"',
    "it's",
    "a: b",
    "#hashtag",
    "words # not a comment",
    "- dash",
    "[brackets]",
    "{braces}",
    "a, b",
    "*star",
    "&anchor",
    "!tag",
    "%percent",
    "@handle@host.example",
    "`tick`",
    "| pipe",
    "> fold",
    "  padded  ",
    "back\\slash",
    "tab\there",
    "Tea & <soldering>",
    "Zoë Ångström",
    "?question",
    "trailing:",
]


@pytest.mark.parametrize("value", TRICKY)
def test_yaml_scalar_reads_back(value: str) -> None:
    assert yaml.safe_load(f"k: {scaffold.yaml_scalar(value)}") == {"k": value}


def test_yaml_list_reads_back() -> None:
    assert yaml.safe_load(f"k: {scaffold.yaml_list(TRICKY)}") == {"k": TRICKY}


def test_plain_values_stay_plain() -> None:
    assert scaffold.yaml_scalar("Spring repair day") == "Spring repair day"
    assert scaffold.yaml_scalar("yes") == '"yes"'


# --- the scaffold's text ------------------------------------------------------------------


def test_story_text_with_everything() -> None:
    text = scaffold.story_text(
        'A "quoted": title',
        date(2026, 5, 2),
        authors=("ada", "bea"),
        tags=("how-to", "a, b"),
        event="spring-repair-day",
        draft=True,
    )
    data = yaml.safe_load(text.split("---\n")[1])
    assert data == {
        "title": 'A "quoted": title',
        "date": date(2026, 5, 2),
        "authors": ["ada", "bea"],
        "tags": ["how-to", "a, b"],
        "event": "spring-repair-day",
        "draft": True,
    }


def test_story_text_minimal_has_commented_examples() -> None:
    text = scaffold.story_text("Hello", date(2026, 5, 2), example_member="ada-okafor")
    assert yaml.safe_load(text.split("---\n")[1]) == {"title": "Hello", "date": date(2026, 5, 2)}
    for key in ("authors", "tags", "summary", "event", "image", "image_alt", "slug", "draft"):
        assert f"\n# {key}: " in text
    assert "# authors: [ada-okafor]" in text
    # Uncommenting every example still gives valid YAML.
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") else line for line in text.split("---\n")[1].splitlines()
    )
    assert set(yaml.safe_load(uncommented)) >= {
        "authors",
        "tags",
        "summary",
        "image",
        "image_alt",
        "draft",
    }


def test_event_text_examples_uncomment_to_valid_keys() -> None:
    text = scaffold.event_text("Bike clinic", datetime(2027, 6, 19, 9, 30))
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and ":" in line else line
        for line in text.split("---\n")[1].splitlines()
        if not line.startswith("#   ")
    )
    data = yaml.safe_load(uncommented)
    assert data["image_alt"] == "A poster with a bike and a sewing machine"
    assert data["image"] == "images/poster.jpg"


def test_single_author_uses_author_key() -> None:
    text = scaffold.story_text("Hello", date(2026, 5, 2), authors=("ada",))
    assert yaml.safe_load(text.split("---\n")[1])["author"] == "ada"


def test_member_text() -> None:
    text = scaffold.member_text(
        "Zoë Ångström", date(2026, 1, 1), handle="@zoe@m.example", member_id="zoe-angstrom"
    )
    data = yaml.safe_load(text.split("---\n")[1])
    assert data == {"name": "Zoë Ångström", "handle": "@zoe@m.example", "joined": date(2026, 1, 1)}
    assert "A few lines about Zoë" in text
    assert "# avatar: images/members/zoe-angstrom.png" in text


def test_event_text() -> None:
    text = scaffold.event_text(
        "Bike clinic",
        datetime(2027, 6, 19, 9, 30),
        end=datetime(2027, 6, 19, 13, 0),
        location="Hall: back room",
        hosts=("tomasz",),
        tags=("bicycles",),
    )
    data = yaml.safe_load(text.split("---\n")[1])
    assert data == {
        "title": "Bike clinic",
        "start": datetime(2027, 6, 19, 9, 30),
        "end": datetime(2027, 6, 19, 13, 0),
        "location": "Hall: back room",
        "hosts": ["tomasz"],
        "tags": ["bicycles"],
    }
    assert "# online: " in text and "# capacity: " in text and "# status: " in text


def test_starter_target_and_fill() -> None:
    assert scaffold.starter_target("dot-gitignore") == ".gitignore"
    assert scaffold.starter_target("static/dot-gitkeep") == "static/.gitkeep"
    assert scaffold.starter_target("content/rules.md") == "content/rules.md"
    config = scaffold.fill_starter(
        "commsite.yaml",
        "title: My Community\nbase_url: https://community.example/\ntimezone: UTC\n",
        title="Yes",
        base_url="https://x.example/",
        today=date(2027, 1, 2),
        timezone="Europe/Paris",
    )
    assert yaml.safe_load(config) == {
        "title": "Yes",
        "base_url": "https://x.example/",
        "timezone": "Europe/Paris",
    }
    story = scaffold.fill_starter(
        "content/events/x.md",
        f"date: {scaffold.STARTER_TODAY}\nstart: {scaffold.STARTER_EVENT_DAY}T18:30:00\n",
        title="T",
        base_url="https://x.example/",
        today=date(2027, 1, 2),
    )
    assert story == "date: 2027-01-02\nstart: 2027-01-30T18:30:00\n"


# --- commsite init ----------------------------------------------------------------------------


def test_starter_is_package_data() -> None:
    starter = resources.files("commsite").joinpath("starter")
    assert starter.joinpath("commsite.yaml").is_file()
    assert starter.joinpath("dot-gitignore").is_file()
    assert starter.joinpath("static").joinpath("dot-gitkeep").is_file()


def test_raw_starter_is_a_valid_site_with_its_placeholders_flagged() -> None:
    root = Path(str(resources.files("commsite").joinpath("starter")))
    site, diagnostics = load_site(root, now=datetime.now(UTC))
    assert site is not None
    assert [d.format() for d in diagnostics] == [
        "commsite.yaml:7: warning: 'base_url' is still the starter's placeholder"
        " https://community.example/; set it to the address the site will be published at,"
        " e.g. https://fixers.example.org/ (its host is in your fediverse handle)",
        *STARTER_MEMBER_WARNINGS,
    ]


def test_replaced_placeholders_are_no_longer_flagged(site: Path) -> None:
    members = site / "content" / "members"
    (members / "sam-member.md").unlink()
    alex = members / "alex-organiser.md"
    text = alex.read_text(encoding="utf-8")
    alex.write_text(
        text.replace("Alex Organiser", "Ada Okafor").replace("@alex@", "@ada@"), encoding="utf-8"
    )
    site_loaded, diagnostics = load_site(site, now=datetime.now(UTC))
    assert [d.format() for d in diagnostics] == []
    assert site_loaded is not None


def test_check_strict_fails_on_the_starter_placeholders(site: Path) -> None:
    assert run("check", site).exit_code == 0
    strict = run("check", site, "--strict")
    assert strict.exit_code == 1
    assert "error: Alex Organiser is the starter's sample member" in strict.output


def test_init_makes_a_valid_site(site: Path) -> None:
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert files == [
        ".github/workflows/commsite.yml",  # --ci github, the default
        ".gitignore",
        "commsite.yaml",
        "content/events/first-meetup.md",
        "content/members/alex-organiser.md",
        "content/members/sam-member.md",
        "content/pages/about.md",
        "content/rules.md",
        "content/stories/welcome.md",
        "static/.gitkeep",
    ]
    ignored = (site / ".gitignore").read_text().split()
    assert "public/" in ignored and ".commsite/" in ignored
    config = yaml.safe_load((site / "commsite.yaml").read_text())
    assert config["title"] == "Fixers of Eastfield"
    assert config["base_url"] == "https://fixers.example/"
    assert config["timezone"] == "Europe/London"
    today = datetime.now(ZoneInfo("Europe/London")).date()
    assert front_matter(site / "content/stories/welcome.md")["date"] == today
    start = front_matter(site / "content/events/first-meetup.md")["start"]
    assert isinstance(start, datetime) and start.date() > today
    site_model, diagnostics = load_site(site, now=datetime.now(UTC))
    assert [d.format() for d in diagnostics] == STARTER_MEMBER_WARNINGS
    assert site_model is not None
    assert len(site_model.stories) == 1
    assert len(site_model.members) == 2
    assert [e.slug for e in site_model.events if e.finishes > site_model.now] == ["first-meetup"]
    assert site_model.config.fediverse_handle == "@fixers_of_eastfield@fixers.example"


def test_init_prints_next_steps(tmp_path: Path) -> None:
    result = run("init", tmp_path / "my-community")
    assert result.exit_code == 0, result.output
    assert "cd " in result.output
    assert "commsite keys generate" in result.output
    assert "commsite serve" in result.output
    assert "  git init && git add . && git commit" in result.output
    # where replies and introductions come from
    assert "sidecar" in result.output and "commsite interactions export" in result.output
    assert "RSVPs to events" in result.output
    config = yaml.safe_load((tmp_path / "my-community" / "commsite.yaml").read_text())
    assert config["title"] == "My Community"
    assert config["base_url"] == scaffold.STARTER_BASE_URL


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code != 0
    assert "is not empty" in result.output and "--force" in result.output
    assert not (tmp_path / "commsite.yaml").exists()
    forced = run("init", tmp_path, "--force")
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "commsite.yaml").is_file()
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_init_into_a_fresh_git_repository(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    result = run("init", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "commsite.yaml").is_file()
    assert "  git add . && git commit -m 'A new community site'\n" in result.output
    assert "git init" not in result.output


def test_init_into_an_existing_empty_folder(tmp_path: Path) -> None:
    result = run("init", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "content" / "rules.md").is_file()


@pytest.mark.parametrize(
    "url", ["fixers.example", "ftp://fixers.example/", "https://x.example/?a=1"]
)
def test_init_rejects_a_bad_base_url(tmp_path: Path, url: str) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "s"), "--base-url", url])
    assert result.exit_code == 2
    assert "--base-url" in result.output
    assert not (tmp_path / "s").exists()


def test_init_rejects_a_bad_timezone(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "s"), "--timezone", "Europe/Londn"])
    assert result.exit_code == 2
    assert "not a time zone" in result.output


def test_init_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    result = CliRunner().invoke(main, ["init", str(tmp_path / "f")])
    assert result.exit_code != 0
    assert "is a file" in result.output


# --- commsite new --------------------------------------------------------------------------


def test_new_story_member_event_make_a_valid_site(site: Path) -> None:
    story = run(
        "new",
        "story",
        '"Tea & <soldering>": a night',
        site,
        "--date",
        "2099-09-19",  # after the starter event: a recap
        "--author",
        "alex-organiser",
        "--author",
        "sam-member",
        "--tag",
        "recap",
        "--event",
        "first-meetup",
    )
    assert story.exit_code == 0, story.output
    story_path = site / "content/stories/2099-09-19-tea-and-soldering-a-night.md"
    assert story.output.strip() == str(story_path)
    data = front_matter(story_path)
    assert data["title"] == '"Tea & <soldering>": a night'
    assert data["authors"] == ["alex-organiser", "sam-member"]

    member = run("new", "member", "Zoë Ångström", site, "--handle", "@zoe@m.example")
    assert member.exit_code == 0, member.output
    member_path = site / "content/members/zoe-angstrom.md"
    assert member.output.strip() == str(member_path)
    assert front_matter(member_path)["name"] == "Zoë Ångström"

    event = run(
        "new",
        "event",
        "Bike clinic",
        "--site",
        site,
        "--date",
        "2027-06-19",
        "--time",
        "09:30",
        "--end",
        "13:00",
        "--host",
        "zoe-angstrom",
        "--location",
        "Northgate Yard",
    )
    assert event.exit_code == 0, event.output
    event_path = site / "content/events/2027-06-19-bike-clinic.md"
    assert event.output.strip() == str(event_path)
    data = front_matter(event_path)
    assert data["start"] == datetime(2027, 6, 19, 9, 30)
    assert data["end"] == datetime(2027, 6, 19, 13, 0)

    online = run("new", "event", "Online clinic", site, "--online", "https://m.example/")
    assert online.exit_code == 0, online.output
    draft = run("new", "story", "Work in progress", "--draft", site)
    assert draft.exit_code == 0, draft.output

    loaded, diagnostics = load_site(site, now=datetime.now(UTC), drafts=True, future=True)
    assert [d.format() for d in diagnostics] == STARTER_MEMBER_WARNINGS
    assert loaded is not None
    assert len(loaded.stories) == 3
    assert len(loaded.members) == 3
    assert len(loaded.events) == 3
    recap = next(s for s in loaded.stories if s.event)
    assert recap.event == "first-meetup"
    bike = next(e for e in loaded.events if e.slug == "bike-clinic")
    assert bike.start.utcoffset() is not None and bike.start.tzinfo is not None
    assert bike.start.astimezone(ZoneInfo("Europe/London")).hour == 9
    assert next(s for s in loaded.stories if s.slug == "work-in-progress").draft


def test_new_dates_default_to_today_in_the_site_time_zone(site: Path) -> None:
    result = run("new", "story", "Today", "--site", site)
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    today = datetime.now(ZoneInfo("Europe/London")).date()
    assert path.name == f"{today.isoformat()}-today.md"
    assert front_matter(path)["date"] == today


def test_new_refuses_to_overwrite(site: Path) -> None:
    first = run("new", "member", "Ada Okafor", "--site", site)
    assert first.exit_code == 0, first.output
    path = site / "content/members/ada-okafor.md"
    path.write_text(path.read_text() + "\nMy own words.\n")
    again = CliRunner().invoke(main, ["new", "member", "Ada Okafor", "--site", str(site)])
    assert again.exit_code == 1
    assert "already exists" in again.output and "--slug" in again.output
    assert "My own words." in path.read_text()
    other = run("new", "member", "Ada Okafor", "--site", site, "--slug", "ada")
    assert other.exit_code == 0, other.output
    assert (site / "content/members/ada.md").is_file()


def test_new_needs_a_site(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new", "story", "Hello", "--site", str(tmp_path)])
    assert result.exit_code == 1
    assert "commsite.yaml" in result.output and "commsite init" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["story", "🎉"], "--slug"),
        (["story", "Hi", "--author", "nobody"], "no member 'nobody'"),
        (["story", "Hi", "--author", "alex"], "did you mean 'alex-organiser'?"),
        (["story", "Hi", "--event", "nope"], "no event 'nope'"),
        (["member", "Ada", "--tag", "x"], "--tag cannot be used with `commsite new member`"),
        (["member", "Ada", "--handle", "ada@example"], "not a fediverse handle"),
        (["event", "E", "--time", "25:00"], "not a time"),
        (["event", "E", "--time", "18:00", "--end", "17:00"], "not after the start"),
        (["event", "E", "--online", "meet.example"], "not an http(s) URL"),
        (["event", "E", "--date", "tomorrow"], "'tomorrow' is not a date; use YYYY-MM-DD"),
        (["story", "E", "--date", "2026-02-30"], "'2026-02-30' is not a date (day is out of"),
        (["song", "E"], "story"),
    ],
)
def test_new_rejects_mistakes(site: Path, args: list[str], message: str) -> None:
    before = sorted(site.rglob("*"))
    result = CliRunner().invoke(main, ["new", *args, "--site", str(site)])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert sorted(site.rglob("*")) == before


def test_help_has_examples() -> None:
    for command in ("init", "new"):
        result = run(command, "--help")
        assert result.exit_code == 0
        assert "Examples:" in result.output
        assert f"commsite {command} " in result.output


def test_the_installed_command_works_end_to_end(tmp_path: Path) -> None:
    """The real entry point in a subprocess, with no standard input (as on CI)."""
    command = [sys.executable, "-c", "from commsite.cli import main; main()"]
    env = {**os.environ, "NO_COLOR": "1"}
    init = subprocess.run(
        [*command, "init", "site", "--title", "Café Ünïcode"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    new = subprocess.run(
        [*command, "new", "event", "Première réunion", "--date", "2028-02-29"],
        cwd=tmp_path / "site",
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert new.returncode == 0, new.stderr
    assert new.stdout.strip() == "content/events/2028-02-29-premiere-reunion.md"
    site, diagnostics = load_site(tmp_path / "site", now=datetime.now(UTC))
    assert site is not None
    assert [d.format() for d in diagnostics][1:] == STARTER_MEMBER_WARNINGS
    assert diagnostics[0].message.startswith("'base_url' is still the starter's placeholder")


def test_init_without_base_url_says_the_address_is_a_placeholder(tmp_path: Path) -> None:
    result = run("init", tmp_path / "club", "--title", "The Bouldering Club of Eastfield")
    assert result.exit_code == 0, result.output
    assert (
        "Its address is a placeholder, https://community.example/: set base_url in"
        " commsite.yaml to the address the site will be published at before you publish"
        " (`commsite check` warns until you do)."
    ) in result.output
    assert "Replace the sample members in content/members/" in result.output
    assert (
        "The handle 'the_bouldering_club_of_eastfield', made from the title, is long to type"
    ) in result.output


def test_init_handle_sets_the_community_handle(tmp_path: Path) -> None:
    root = tmp_path / "club"
    result = run(
        "init",
        root,
        "--title",
        "The Bouldering Club of Eastfield",
        "--handle",
        "boulders",
        "--base-url",
        "https://club.example/",
    )
    assert result.exit_code == 0, result.output
    assert "Its fediverse address will be @boulders@club.example." in result.output
    assert "long to type" not in result.output
    config = yaml.safe_load((root / "commsite.yaml").read_text(encoding="utf-8"))
    assert config["community"]["handle"] == "boulders"
    loaded, _ = load_site(root, now=datetime.now(UTC))
    assert loaded is not None and loaded.config.community.handle == "boulders"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("@boulders@club.example", "give only the user part, e.g. 'boulders'"),
        ("Boulder Club", "use lowercase a-z, 0-9 and _, e.g. 'boulder_club'"),
    ],
)
def test_init_handle_is_validated(tmp_path: Path, given: str, message: str) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "c"), "--handle", given])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "c").exists()


def test_init_timezone_hint_names_a_real_zone(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "c"), "--timezone", "GMT+1"])
    assert result.exit_code == 2
    assert "use Etc/GMT-1 (note the inverted sign) or a city zone like Europe/Berlin" in (
        " ".join(result.output.split())
    )


def test_new_takes_the_site_last_like_every_command_and_keeps_site_as_an_alias(
    site: Path,
) -> None:
    first = run("new", "member", "Ada Okafor", site)
    assert first.output.strip() == str(site / "content/members/ada-okafor.md")
    alias = run("new", "member", "Bo Chen", "--site", site)
    assert alias.output.strip() == str(site / "content/members/bo-chen.md")
    both = CliRunner().invoke(main, ["new", "member", "Cy", str(site), "--site", str(site)])
    assert both.exit_code == 0, both.output
    other = site.parent / "elsewhere"
    other.mkdir()
    clash = CliRunner().invoke(main, ["new", "member", "Di", str(site), "--site", str(other)])
    assert clash.exit_code == 2
    assert "the site is given twice, as SITE" in clash.output
    usage = CliRunner().invoke(main, ["new", "--help"], prog_name="commsite").output
    assert usage.startswith("Usage: commsite new [OPTIONS] KIND TITLE [SITE]")
