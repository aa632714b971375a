"""commsite.yaml as frozen dataclasses.

The dataclasses here are the contract every other module reads. `load_config`
(implemented in `commsite.content.config_loader`) parses and validates the file,
collecting every problem as a Diagnostic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from commsite.image_table import ImageTable

__all__ = [
    "ACTOR_TYPES",
    "APPROVE_POLICIES",
    "CommunityConfig",
    "FederationConfig",
    "ModerationConfig",
    "RsvpConfig",
    "SidecarConfig",
    "SiteConfig",
]

ACTOR_TYPES = ("Group", "Person", "Service", "Organization", "Application")
APPROVE_POLICIES = ("members", "followers", "everyone", "manual")
OBJECT_TYPES = ("Note", "Article")


@dataclass(frozen=True, slots=True)
class CommunityConfig:
    handle: str
    name: str
    summary: str
    avatar: str | None = None  # path under static/
    header_image: str | None = None  # path under static/
    actor_type: str = "Group"


@dataclass(frozen=True, slots=True)
class FederationConfig:
    enabled: bool = True
    allow_private_addresses: bool = False
    # How stories federate: Note shows the full text in Mastodon timelines,
    # Article shows title + summary + link.
    story_type: str = "Note"
    # Public URL of the sidecar's inbox when it is not on base_url's host/path;
    # None means `<base_url>inbox` (the sidecar is routed under the same domain).
    inbox_url: str | None = None


@dataclass(frozen=True, slots=True)
class ModerationConfig:
    approve: str = "members"
    blocked_domains: tuple[str, ...] = ()
    blocked_actors: tuple[str, ...] = ()
    # Optional keyword rules: a post containing one of these waits for review.
    hold_keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SidecarConfig:
    host: str = "127.0.0.1"
    port: int = 8787
    rebuild_webhook: str | None = None
    # The environment variable holding the webhook's token (sidecar/rebuild.py), and
    # the branch a GitLab pipeline trigger builds.
    rebuild_token_env: str | None = None
    rebuild_ref: str = "main"
    data_dir: str = ".commsite"  # relative to the site root
    # Other names the inbox answers to besides base_url's (and inbox_url's) host:
    # "host" (any port) or "host:port". A delivery signed for any other Host is 401.
    host_aliases: tuple[str, ...] = ()
    # The store: None is the SQLite file in data_dir; "postgresql://user@host/db" a
    # PostgreSQL database (commsite.database), its password in the environment
    # variable `database_password_env` (or libpq's PGPASSWORD, ~/.pgpass).
    database: str | None = None
    database_password_env: str | None = None


# What a reply to an event must say to count as an answer (matched as whole
# words, case- and accent-insensitively, by the sidecar's RSVP intake). Several
# languages by default; commsite.yaml's `rsvp.words` replaces an answer's list.
DEFAULT_RSVP_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "going",
        (
            "going", "coming", "i'm in", "count me in", "i'll be there", "attending",
            "je viens", "j'y serai", "ich komme", "bin dabei", "voy", "ik kom", "vou",
        ),
    ),
    ("maybe", ("maybe", "perhaps", "peut-être", "vielleicht", "quizás", "misschien", "talvez")),
    (
        "not_going",
        (
            "can't make it", "cannot make it", "can't come", "not going", "not coming",
            "je ne peux pas", "kann nicht", "no puedo", "kan niet", "não posso",
        ),
    ),
)  # fmt: skip
# The options of an event's poll (an ActivityPub Question), by answer.
DEFAULT_POLL_OPTIONS: tuple[tuple[str, str], ...] = (
    ("going", "Going"),
    ("maybe", "Maybe"),
    ("not_going", "Can't go"),
)


@dataclass(frozen=True, slots=True)
class RsvpConfig:
    """commsite.yaml's `rsvp:` section: how members answer events from Mastodon.

    Pairs rather than dicts, so the config stays hashable; `words_for` and
    `option` read them."""

    # (answer, words that say it in a reply); answer is "going" | "maybe" | "not_going"
    words: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_RSVP_WORDS
    # Publishing an event also sends a poll (a Question closing at the event's start).
    poll: bool = True
    # (answer, the poll option's name): a vote is a Note whose `name` is one of these
    poll_options: tuple[tuple[str, str], ...] = DEFAULT_POLL_OPTIONS

    def words_for(self, answer: str) -> tuple[str, ...]:
        return dict(self.words).get(answer, ())

    def option(self, answer: str) -> str:
        return dict(self.poll_options)[answer]


@dataclass(frozen=True, slots=True)
class SiteConfig:
    title: str
    base_url: str  # absolute http(s) URL, always ending in "/"
    description: str = ""
    language: str = "en"
    timezone: str = "UTC"
    theme: str = "default"
    per_page: int = 10
    search: bool = True  # the search page and its Pagefind index (build.search)
    community: CommunityConfig = field(
        default_factory=lambda: CommunityConfig(handle="community", name="", summary="")
    )
    federation: FederationConfig = field(default_factory=FederationConfig)
    moderation: ModerationConfig = field(default_factory=ModerationConfig)
    sidecar: SidecarConfig = field(default_factory=SidecarConfig)
    rsvp: RsvpConfig = field(default_factory=RsvpConfig)
    # commsite.yaml's base_url when a build replaced base_url (commsite serve's
    # local address): the handle pages show keeps its host. None: base_url.
    live_url: str | None = None
    # What the build made of the images the content uses (build/images.py); empty
    # when the site was loaded without building (commsite check).
    images: ImageTable = field(default_factory=ImageTable)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def host(self) -> str:
        """The authority of base_url (host[:port]), as in `@handle@host`."""
        return urlsplit(self.base_url).netloc

    @property
    def base_path(self) -> str:
        """The path of base_url, always starting and ending with '/'."""
        return urlsplit(self.base_url).path or "/"

    @property
    def fediverse_handle(self) -> str:
        """`@handle@host` of where the site lives (in a preview too, see live_url)."""
        host = urlsplit(self.live_url).netloc if self.live_url else self.host
        return f"@{self.community.handle}@{host}"

    def url(self, path: str) -> str:
        """Absolute URL of a site path such as 'stories/x/' or '/stories/x/'."""
        return self.base_url + path.lstrip("/")


POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_postgres_url(value: str) -> bool:
    """Whether `sidecar.database` names a PostgreSQL server (else: not a database URL)."""
    scheme, sep, _ = value.partition("://")
    return bool(sep) and scheme.lower() in POSTGRES_SCHEMES
