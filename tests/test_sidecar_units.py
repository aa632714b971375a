"""The sidecar's pure parts: classification, rate limits, header parsing, the thread map."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from commsite.config import FederationConfig, SidecarConfig, SiteConfig
from commsite.content.model import Site
from commsite.federation.fetch import FetchError
from commsite.sidecar.admission import acceptable_content_type, signature_key_id
from commsite.sidecar.hosts import host_rules, is_our_host
from commsite.sidecar.processing import PUBLIC, classify
from commsite.sidecar.profiles import profile_from_document
from commsite.sidecar.ratelimit import RateLimiter
from commsite.sidecar.targets import Targets, index_site
from commsite.sidecar.worker import INBOX_RETRIES

US = "https://x.example/ap/actor"
AS_PUBLIC = next(iter(sorted(PUBLIC)))
MENTION = {"type": "Mention", "href": US}
INTRO_TAG = {"type": "Hashtag", "name": "#Introduction"}


def kind(note: dict[str, Any], target: str | None = None) -> str:
    return classify(note, our_actor=US, thread_target=target)[0]


PUBLIC_TO = {"to": ["https://www.w3.org/ns/activitystreams#Public"]}


@pytest.mark.parametrize(
    ("note", "target", "expected"),
    [
        ({**PUBLIC_TO, "inReplyTo": "https://x.example/ap/stories/a"}, "stories/a", "reply"),
        ({"cc": ["as:Public"], "inReplyTo": "x"}, "stories/a", "reply"),  # unlisted is public
        ({"to": ["https://r.example/followers"], "inReplyTo": "x"}, "stories/a", "message"),
        ({**PUBLIC_TO, "tag": [MENTION, INTRO_TAG]}, None, "introduction"),
        ({**PUBLIC_TO, "tag": [MENTION, INTRO_TAG], "inReplyTo": "https://e/1"}, None,
         "introduction"),
        ({**PUBLIC_TO, "cc": [US]}, None, "introduction"),  # addressed to us, replies to nothing
        ({"to": [US], "tag": [MENTION]}, None, "message"),  # a direct message is never published
        ({**PUBLIC_TO, "tag": [MENTION], "inReplyTo": "https://e/1"}, None, "message"),
        ({**PUBLIC_TO}, None, "ignore"),
        ({**PUBLIC_TO, "inReplyTo": "https://e/1"}, None, "ignore"),
    ],
)  # fmt: skip
def test_classify(note: dict[str, Any], target: str | None, expected: str) -> None:
    assert kind(note, target) == expected


def test_rate_limiter_bursts_then_refills() -> None:
    limiter = RateLimiter(rate=2.0, burst=3)
    assert [limiter.take("a.example", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a.example", 0.0)
    assert wait == pytest.approx(0.5)
    assert limiter.retry_after(wait) == "1"
    assert limiter.take("b.example", 0.0) == 0.0  # per domain
    assert limiter.take("a.example", 0.5) == 0.0  # one token back after 1/rate seconds


def test_rate_limiter_forgets_full_buckets_when_it_has_too_many() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, max_keys=4)
    for i in range(10):
        limiter.take(f"h{i}", float(i * 10))
    assert len(limiter._buckets) <= 4


@pytest.mark.parametrize(
    ("headers", "key_id"),
    [
        ({"signature": 'keyId="https://r.example/u#k",algorithm="rsa-sha256"'}, "https://r.example/u#k"),
        ({"signature": 'algorithm="hs2019", keyId="https://r.example/u#k"'}, "https://r.example/u#k"),
        ({"signature-input": 'sig1=("@method");keyid="https://r.example/k";created=1'}, "https://r.example/k"),
        ({"signature": "garbage"}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_signature_key_id(headers: dict[str, str], key_id: str | None) -> None:
    assert signature_key_id(headers) == key_id


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("application/activity+json", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        ("Application/JSON; charset=utf-8", True),
        ("text/html", False),
        ("multipart/form-data", False),
        ("", False),
        (None, False),
    ],
)
def test_acceptable_content_type(value: str | None, ok: bool) -> None:
    assert acceptable_content_type(value) is ok


def test_thread_map_knows_object_ids_and_pages_with_or_without_slash() -> None:
    config = SiteConfig(title="t", base_url="https://x.example/sub/")
    index = index_site(config, ["a"], ["fair"], ["@Ada@M.example"])
    assert index.targets["https://x.example/sub/ap/stories/a"] == "stories/a"
    assert index.targets["https://x.example/sub/stories/a"] == "stories/a"
    assert index.targets["https://x.example/sub/events/fair"] == "events/fair"
    assert index.members == frozenset({"@ada@m.example"})


def test_targets_reload_when_a_lookup_misses_and_the_index_is_stale() -> None:
    from dataclasses import replace

    from sample_site import site as sample

    base: Site = sample()
    loads: list[int] = []
    current = {"site": replace(base, stories=base.stories[:1])}
    clock = {"now": 0.0}

    def load() -> Site:
        loads.append(1)
        return current["site"]

    targets = Targets(load, max_age=30.0, monotonic=lambda: clock["now"])
    new_slug = base.stories[1].slug
    url = base.config.url(f"ap/stories/{new_slug}")
    current["site"] = base
    assert targets.target_of(url) is None  # read less than a second ago: not again
    clock["now"] = 31.0
    assert targets.target_of(url) == f"stories/{new_slug}"
    assert len(loads) == 2


def test_profiles_refuse_a_document_that_is_not_the_actor() -> None:
    with pytest.raises(FetchError, match="the document's id is"):
        profile_from_document(
            {"id": "https://r.example/other", "type": "Person"}, "https://r.example/u"
        )
    profile = profile_from_document(
        {
            "id": "https://r.example/u",
            "type": "Person",
            "preferredUsername": "u",
            "icon": {"url": "javascript:alert(1)"},
            "url": [{"type": "Link", "href": "https://r.example/@u"}],
        },
        "https://r.example/u",
    )
    assert (profile.handle, profile.name, profile.avatar, profile.url) == (
        "@u@r.example",
        "u",
        None,
        "https://r.example/@u",
    )


def test_inbox_retries_double_up_to_a_cap_with_bounded_jitter() -> None:
    """30 s doubling, at most 6 hours, each within 75 % to 125 % of that."""
    rng = random.Random(5)
    for attempts, seconds in [
        (1, 30),
        (2, 60),
        (3, 120),
        (10, 15360),
        (20, 6 * 3600),
        (500, 6 * 3600),
    ]:
        for _ in range(200):
            delay = INBOX_RETRIES.delay(attempts, rng).total_seconds()
            assert seconds * 0.75 <= delay <= seconds * 1.25, (attempts, delay)


def test_inbox_retry_jitter_is_the_seeds_and_spreads_a_burst() -> None:
    """The same random source gives the same delays (so a test or a replay can
    fix them); a hundred activities failing at once come back spread over
    about fifteen seconds, not in one."""

    def burst(seed: int) -> list[timedelta]:
        rng = random.Random(seed)
        return [INBOX_RETRIES.delay(1, rng) for _ in range(100)]

    first = burst(42)
    assert burst(42) == first
    assert burst(43) != first
    assert len({int(d.total_seconds()) for d in first}) >= 12  # of the 16 seconds 22-37
    assert max(first) - min(first) >= timedelta(seconds=12)


HOSTS_SITE = SiteConfig(
    title="t",
    base_url="https://club.example/",
    federation=FederationConfig(inbox_url="https://inbox.example:8443/ap/inbox"),
    sidecar=SidecarConfig(host_aliases=("www.club.example", "10.0.0.5:8787")),
)


@pytest.mark.parametrize(
    ("host", "ours"),
    [
        ("club.example", True),
        ("CLUB.Example:443", True),  # the default port of base_url's scheme
        ("club.example.", True),
        ("club.example:8443", False),
        ("club.example:80", False),
        ("evil.example", False),
        ("club.example.evil.example", False),
        ("inbox.example:8443", True),  # federation.inbox_url, on its port
        ("inbox.example", False),
        ("www.club.example:9999", True),  # an alias without a port: any port
        ("10.0.0.5:8787", True),
        ("10.0.0.5", False),
        ("user@club.example", False),
        ("club.example:x", False),
        ("", False),
        (None, False),
    ],
)
def test_the_hosts_a_delivery_may_be_signed_for(host: str | None, ours: bool) -> None:
    assert is_our_host(host, host_rules(HOSTS_SITE)) is ours


def test_an_http_site_on_a_port_is_that_port_only() -> None:
    rules = host_rules(SiteConfig(title="t", base_url="http://127.0.0.1:5000/"))
    assert is_our_host("127.0.0.1:5000", rules)
    assert not is_our_host("127.0.0.1", rules)  # port 80
    assert not is_our_host("127.0.0.1:5001", rules)
    assert is_our_host("[::1]", host_rules(SiteConfig(title="t", base_url="http://[::1]/")))
