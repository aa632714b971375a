"""A small community site kept as data and written to a folder, for the randomised
differential test (tests/test_incremental_differential.py).

`FixtureSite` holds every input file of the site as data: content documents as
front matter and body, commsite.yaml as a mapping, everything else as bytes.
Edits (tests/differential_edits.py) change the data; `sync` writes what changed
and deletes what went, as a person editing the site would. An invalid edit is
kept apart (`broken`) so that the step after it can put the files back.
The clock (SOURCE_DATE_EPOCH) is part of the site, because moving it changes
what a build makes as surely as an edit does.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import commsite.themes

from golden.regenerate import SITE as GOLDEN_SITE

__all__ = ["Doc", "FixtureSite", "make_site"]

START = datetime(2026, 10, 1, 12, tzinfo=UTC)  # the clock before any edit
THEME = Path(commsite.themes.__file__).resolve().parent / "default"

MEMBER_IDS = ("ada", "bea", "cai", "dev", "eli", "fay", "gus", "hal", "ivy", "jon")
EVENT_SLUGS = ("repair-day", "sewing-circle", "bike-clinic", "swap-meet", "soldering", "walk")
EVENT_SLUGS += ("picnic", "quiz-night", "tool-sale", "knit-in")
INTERESTS = ("sewing", "bikes", "electronics", "Electronics", "gardening", "wood work")
TAGS = ("news", "recap", "repair-cafe", "Repair Café", "bikes", "sewing", "C++", "C#", "tools")
TIMEZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati")
WORDS = (
    "mend",
    "kettle",
    "radio",
    "tea",
    "&",
    "<b>",
    '"quoted"',
    "Saturday",
    "café",
    "lamp",
    "thread",
    "bolt",
    "*soft*",
    "neighbours",
)
# Themes the site may use besides the bundled one: a folder in the site (not its
# theme/ overrides folder) and one next to it.
LOCAL_THEMES = ("mytheme", "../outside-theme")
IMAGES = ("images/logo.svg", "images/hall.svg", "images/lamp.svg", "images/bike.png")


@dataclass
class Doc:
    """A content file: front matter (written in order) and a Markdown or HTML body."""

    meta: dict[str, object]
    body: str

    def text(self) -> str:
        lines = [f"{key}: {yaml_value(value)}" for key, value in self.meta.items()]
        return "---\n" + "".join(line + "\n" for line in lines) + "---\n" + self.body


def yaml_value(value: object) -> str:
    """A YAML flow value: strings as JSON (valid YAML), dates unquoted (timestamps)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (int, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{json.dumps(k)}: {yaml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise TypeError(f"no YAML for {value!r}")


@dataclass
class FixtureSite:
    root: Path
    rng: random.Random
    epoch: int  # the build clock, SOURCE_DATE_EPOCH
    config: dict[str, object]
    docs: dict[str, Doc]  # content/**.md and interactions/**.md, by path
    # Every other input file, by path; "../outside-theme/..." is a theme kept
    # next to the site (commsite.yaml may name it by its absolute path).
    files: dict[str, bytes]
    # An invalid edit's files (None: deleted), written over the data until `repair`.
    broken: dict[str, bytes | None] = field(default_factory=dict)
    spare_key: bytes = b""  # federation/public-key.pem while it is deleted
    folders: set[str] = field(default_factory=set)  # empty folders, by path
    _written: dict[str, bytes] = field(default_factory=dict)

    # --- what is there ---------------------------------------------------------

    def paths(self, folder: str) -> list[str]:
        return sorted(p for p in self.docs if p.startswith(folder))

    @property
    def stories(self) -> list[str]:
        return self.paths("content/stories/")

    @property
    def members(self) -> list[str]:
        return self.paths("content/members/")

    @property
    def events(self) -> list[str]:
        return self.paths("content/events/")

    def member_ids(self) -> list[str]:
        return [Path(p).stem for p in self.members]

    def event_ids(self) -> list[str]:
        return [event_id(p, self.docs[p]) for p in self.events]

    def story_slugs(self) -> list[str]:
        return [event_id(p, self.docs[p]) for p in self.stories]

    def images(self) -> list[str]:
        return sorted(p.removeprefix("static/") for p in self.files if p.startswith("static/"))

    @property
    def tz(self) -> ZoneInfo:
        name = self.config.get("timezone", "UTC")
        return ZoneInfo(name if isinstance(name, str) else "UTC")

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch, UTC)

    def moment(self, value: object) -> datetime | None:
        """A front-matter date or datetime as the build reads it (in the site's zone)."""
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=self.tz)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=self.tz)
        return None

    def moments(self) -> list[datetime]:
        """Every date the site's pages compare with the build clock."""
        found = []
        for path in (*self.stories, *self.events, *self.paths("interactions/replies/")):
            for key in ("date", "start", "end", "published"):
                moment = self.moment(self.docs[path].meta.get(key))
                if moment is not None:
                    found.append(moment)
        return sorted(found)

    # --- writing -----------------------------------------------------------------

    def contents(self) -> dict[str, bytes]:
        found = {"commsite.yaml": config_text(self.config).encode()}
        found.update((p, d.text().encode()) for p, d in self.docs.items())
        found.update(self.files)
        for path, data in self.broken.items():
            if data is None:
                found.pop(path, None)
            else:
                found[path] = data
        return found

    def sync(self) -> None:
        """Write the files whose bytes changed, delete the ones that went (and the
        folders they leave empty, as `git rm` does)."""
        now = self.contents()
        for path in self._written.keys() - now.keys():
            (self.root / path).unlink()
            folder = (self.root / path).parent
            while folder != self.root and folder != self.root.parent and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
        for path, data in now.items():
            if self._written.get(path) != data:
                target = self.root / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        self._written = now
        for folder in self.folders:
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    def break_file(self, path: str, data: bytes | None) -> None:
        self.broken[path] = data

    def repair(self) -> str:
        described = ", ".join(sorted(self.broken))
        self.broken.clear()
        return f"put back {described}"

    def touch(self, path: str) -> None:
        """A new modification time, the same bytes (an editor saving without changes)."""
        target = self.root / path
        stamp = target.stat().st_mtime_ns + 1_000_000_000 + self.rng.randrange(10**9)
        os.utime(target, ns=(stamp, stamp))


def event_id(path: str, doc: Doc) -> str:
    """The id (slug) of an event or story file: `slug:`, else the name without its date."""
    slug = doc.meta.get("slug")
    if isinstance(slug, str):
        return slug
    stem = Path(path).stem
    if len(stem) > 11 and stem[:4].isdigit() and stem[4] == "-" and stem[10] == "-":
        return stem[11:]
    return stem


def config_text(config: dict[str, object]) -> str:
    lines = []
    for key, value in config.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {yaml_value(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {yaml_value(value)}")
    return "".join(line + "\n" for line in lines)


# --- making things up ------------------------------------------------------------


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def title(rng: random.Random) -> str:
    return words(rng, 2, 5).capitalize()


def body(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.15:
            parts.append(f"## {title(rng)}")
        elif kind < 0.3:
            parts.append("\n".join(f"- {words(rng, 1, 4)}" for _ in range(rng.randint(1, 3))))
        elif kind < 0.4:
            parts.append(f"See [the rules](/rules/#rule-{rng.randint(1, 4)}).")
        else:
            parts.append(words(rng, 3, 30) + ".")
    return "\n\n".join(parts) + "\n"


def when(rng: random.Random, tz: ZoneInfo, around: datetime, days: int) -> date | datetime:
    """A date or datetime within `days` of `around`: a bare date, a local time, or
    a time with an offset."""
    moment = around + timedelta(minutes=rng.randint(-days * 1440, days * 1440))
    moment = moment.replace(second=0, microsecond=0)
    kind = rng.random()
    if kind < 0.4:
        return moment.astimezone(tz).date()
    if kind < 0.7:
        return moment.astimezone(tz).replace(tzinfo=None)
    return moment.astimezone(rng.choice([UTC, ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Kolkata")]))


def new_member(rng: random.Random, member_id: str, images: list[str]) -> Doc:
    meta: dict[str, object] = {"name": f"{member_id.capitalize()} {rng.choice(WORDS)}"}
    if rng.random() < 0.6:
        meta["handle"] = f"@{member_id}@social.example"
    if rng.random() < 0.4:
        meta["pronouns"] = rng.choice(["she/her", "he/him", "they/them"])
    if rng.random() < 0.8:
        meta["interests"] = rng.sample(INTERESTS, rng.randint(1, 3))
    if rng.random() < 0.6:
        meta["joined"] = date(2025, rng.randint(1, 12), rng.randint(1, 28))
    if rng.random() < 0.3:
        meta["roles"] = rng.sample(["organiser", "host", "treasurer"], rng.randint(1, 2))
    if rng.random() < 0.3:
        meta["links"] = {"Website": f"https://{member_id}.example/"}
    if rng.random() < 0.4 and images:
        meta["avatar"] = rng.choice(images)
    return Doc(meta, words(rng, 4, 12) + ".\n")


def new_event(site: FixtureSite, slug: str) -> tuple[str, Doc]:
    rng = site.rng
    start = when(rng, site.tz, site.now, 120)
    if not isinstance(start, datetime):  # events start at a time
        start = datetime(start.year, start.month, start.day, rng.randint(8, 20))
    meta: dict[str, object] = {"title": title(rng), "start": start}
    if rng.random() < 0.6:
        meta["end"] = start + timedelta(hours=rng.randint(1, 30))
    if rng.random() < 0.5:
        meta["location"] = words(rng, 1, 3)
    elif rng.random() < 0.5:
        meta["location"] = {"name": words(rng, 1, 2), "address": "Church Street"}
    if rng.random() < 0.3:
        meta["online"] = "https://meet.example/" + slug
    if site.members and rng.random() < 0.7:
        meta["hosts"] = rng.sample(site.member_ids(), rng.randint(1, min(2, len(site.members))))
    if rng.random() < 0.3:
        meta["capacity"] = rng.randint(1, 60)
    if rng.random() < 0.2:
        meta["status"] = rng.choice(["cancelled", "postponed", "scheduled"])
    if rng.random() < 0.5:
        meta["tags"] = rng.sample(TAGS, rng.randint(1, 2))
    prefix = f"{start:%Y-%m-%d}-" if rng.random() < 0.7 else ""
    return f"content/events/{prefix}{slug}.md", Doc(meta, body(rng))


def new_story(site: FixtureSite, slug: str) -> tuple[str, Doc]:
    rng = site.rng
    day = when(rng, site.tz, site.now - timedelta(days=60), 120)
    meta: dict[str, object] = {"title": title(rng), "date": day}
    ids = site.member_ids()
    if ids and rng.random() < 0.8:
        if rng.random() < 0.3:
            meta["author"] = rng.choice(ids)
        else:
            meta["authors"] = rng.sample(ids, rng.randint(1, min(2, len(ids))))
    if rng.random() < 0.7:
        meta["tags"] = rng.sample(TAGS, rng.randint(1, 3))
    if rng.random() < 0.3:
        meta["summary"] = words(rng, 3, 8)
    if rng.random() < 0.2 and site.images():
        meta["image"] = rng.choice(site.images())
    if rng.random() < 0.1:
        meta["draft"] = True
    linked = recap_candidates(site, day)
    if linked and rng.random() < 0.3:
        meta["event"] = rng.choice(linked)
    day_part = day if isinstance(day, date) and not isinstance(day, datetime) else day.date()
    prefix = f"{day_part:%Y-%m-%d}-" if rng.random() < 0.7 else ""
    return f"content/stories/{prefix}{slug}.md", Doc(meta, body(rng))


def recap_candidates(site: FixtureSite, day: object) -> list[str]:
    """Events a story dated `day` can be the recap of (it is not dated before them)."""
    moment = site.moment(day)
    found = []
    for path in site.events:
        start = site.moment(site.docs[path].meta.get("start"))
        if moment is not None and start is not None and start.date() <= moment.date():
            found.append(event_id(path, site.docs[path]))
    return found


def reply(site: FixtureSite, target: str) -> tuple[str, Doc]:
    rng = site.rng
    n = rng.randrange(10**6)
    ap_id = f"https://social.example/users/u{n}/statuses/{n}"
    meta: dict[str, object] = {
        "id": ap_id,
        "kind": "reply",
        "target": target,
        "in_reply_to": f"https://diff.example/ap/{target}",
        "author_name": f"Guest {n}",
        "author_handle": f"@u{n}@social.example",
        "author_url": f"https://social.example/@u{n}",
        "published": (site.now + timedelta(hours=rng.randint(-2000, 500))).replace(microsecond=0),
    }
    if rng.random() < 0.3:
        meta["url"] = f"https://social.example/@u{n}/{n}"
    if rng.random() < 0.2:
        meta["summary"] = "spoilers"
        meta["sensitive"] = True
    if rng.random() < 0.2:
        meta["author_avatar"] = f"https://social.example/avatars/{n}.png"
    name = hashlib.sha1(ap_id.encode()).hexdigest()[:12]
    return f"interactions/replies/{target}/{name}.md", Doc(meta, f"<p>{words(rng, 2, 9)}</p>\n")


def introduction(site: FixtureSite) -> tuple[str, Doc]:
    rng = site.rng
    n = rng.randrange(10**6)
    ap_id = f"https://social.example/users/i{n}/statuses/{n}"
    meta: dict[str, object] = {
        "id": ap_id,
        "kind": "introduction",
        "author_name": f"Newcomer {n}",
        "author_handle": f"@i{n}@social.example",
        "author_url": f"https://social.example/@i{n}",
        "published": (site.now - timedelta(hours=rng.randint(1, 900))).replace(microsecond=0),
        "tags": ["introduction", *rng.sample(INTERESTS, 1)],
    }
    name = hashlib.sha1(ap_id.encode()).hexdigest()[:12]
    text = f"<p>Hi! I like {meta['tags'][1]}. #introduction</p>\n"  # type: ignore[index]
    return f"interactions/introductions/{name}.md", Doc(meta, text)


def rules(rng: random.Random, count: int) -> Doc:
    """Rules numbered from 1, or now and then from another number (anchors follow)."""
    first = 1 if rng.random() < 0.8 else rng.randint(2, 5)
    items = "\n".join(f"{n}. {words(rng, 2, 8).capitalize()}." for n in range(first, first + count))
    meta: dict[str, object] = {"title": rng.choice(["Our rules", "Code of conduct"])}
    if rng.random() < 0.5:
        meta["updated"] = date(2026, rng.randint(1, 9), rng.randint(1, 28))
    return Doc(meta, f"{words(rng, 3, 10).capitalize()}.\n\n{items}\n")


def svg(rng: random.Random) -> bytes:
    return f'<svg xmlns="http://www.w3.org/2000/svg" data-n="{rng.randrange(10**6)}"/>\n'.encode()


def png(rng: random.Random) -> bytes:
    """A small real PNG of a random size and colour: the build makes variants of it,
    and pages show its size, so new bytes change them."""
    from PIL import Image

    size = (rng.randrange(200, 700), rng.randrange(100, 500))
    out = io.BytesIO()
    Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), 90)).save(out, "PNG")
    return out.getvalue()


def image_bytes(rng: random.Random, name: str) -> bytes:
    return png(rng) if name.endswith(".png") else svg(rng)


def overridden(template: str, mark: str) -> bytes:
    """The default theme's template with a visible change: a comment in the page, or
    in macros.html a class on every date (which most pages show)."""
    text = (THEME / "templates" / template).read_text(encoding="utf-8")
    if template == "macros.html":
        changed = text.replace("<time datetime=", f'<time class="{mark}" datetime=', 1)
    elif template == "base.html":
        changed = text.replace("</body>", f"<!-- {mark} -->\n</body>", 1)
    elif "{% endblock %}" not in text:  # a macro of its own (copy-button.html, search_marks.html)
        closing = "</button>" if "</button>" in text else "</div>"
        changed = text.replace(closing, f"{closing}<!-- {mark} -->", 1)
    else:
        head, _, tail = text.rpartition("{% endblock %}")
        changed = f"{head}<!-- {mark} -->\n{{% endblock %}}{tail}"
    assert changed != text, template
    return changed.encode()


def make_site(root: Path, seed: int) -> FixtureSite:
    """A community of 6 members, 7 events past and upcoming, 16 stories, rules, two
    pages, replies, introductions, reactions and a theme override, made up from `seed`."""
    rng = random.Random(seed)
    config: dict[str, object] = {
        "title": "Menders & Friends",
        "base_url": "https://diff.example/",
        "description": "A repair group, for the differential test.",
        "timezone": rng.choice(TIMEZONES),
        "per_page": rng.randint(2, 6),
        "community": {"handle": "menders", "summary": "We mend things.", "avatar": IMAGES[0]},
    }
    files = {f"static/{name}": image_bytes(rng, name) for name in IMAGES}
    files["federation/public-key.pem"] = (GOLDEN_SITE / "federation/public-key.pem").read_bytes()
    files["theme/templates/page.html"] = overridden("page.html", "ours")
    files["theme/static/assets/extra.css"] = b".extra { color: teal; }\n"
    site = FixtureSite(root, rng, int(START.timestamp()), config, {}, files)
    for member_id in rng.sample(MEMBER_IDS, 6):
        site.docs[f"content/members/{member_id}.md"] = new_member(rng, member_id, site.images())
    for slug in rng.sample(EVENT_SLUGS, 7):
        path, doc = new_event(site, slug)
        site.docs[path] = doc
    for n in range(16):
        path, doc = new_story(site, f"story-{n}")
        site.docs[path] = doc
    site.docs["content/rules.md"] = rules(rng, rng.randint(2, 5))
    site.docs["content/pages/about.md"] = Doc({"title": "About us"}, body(rng))
    site.docs["content/pages/join.md"] = Doc({"title": "Join", "summary": "How to join"}, body(rng))
    for target in rng.sample([f"stories/{s}" for s in site.story_slugs()], 3):
        path, doc = reply(site, target)
        site.docs[path] = doc
    path, doc = reply(site, f"events/{rng.choice(site.event_ids())}")
    site.docs[path] = doc
    for _ in range(2):
        path, doc = introduction(site)
        site.docs[path] = doc
    slug = rng.choice(site.story_slugs())
    site.files["interactions/reactions.yaml"] = (
        f"stories/{slug}: {{likes: 3, boosts: 1}}\n".encode()
    )
    site.sync()
    return site
