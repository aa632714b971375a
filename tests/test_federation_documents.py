"""The static federation documents, checked field by field against what
Mastodon reads (shared/reference/activitypub-interop.md §1-3, §6)."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

from commsite import urls
from commsite.activitypub.activities import create_activity, delete_activity, update_activity
from commsite.activitypub.actor import actor
from commsite.activitypub.discovery import nodeinfo
from commsite.activitypub.documents import federation_documents
from commsite.activitypub.objects import event_object, story_object
from commsite.activitypub.vocabulary import PUBLIC
from commsite.config import FederationConfig
from commsite.content.model import Site, Story
from commsite.errors import Diagnostic, Severity
from commsite.feeds.links import public_stories
from commsite.site_files import content_type_for
from handmade_site import TRICKY, site

ACTOR = "https://example.org/ap/actor"


def documents(s: Site | None = None) -> dict[str, Any]:
    docs, diagnostics = federation_documents(s or site())
    assert diagnostics == []
    return {
        path: body if path == urls.HOST_META else json.loads(body) for path, body in docs.items()
    }


def test_every_document_is_keyed_by_its_url_path() -> None:
    assert sorted(documents()) == sorted(
        [
            ".well-known/webfinger",
            ".well-known/host-meta",
            ".well-known/nodeinfo",
            "nodeinfo/2.1",
            "ap/actor",
            "ap/outbox",
            "ap/outbox-pages/1",
            "ap/stories/tricky-title",
            "ap/stories/hello",  # the draft is not federated
            "ap/events/spring-repair-day",
            "ap/events/winter-swap",
            "ap/events/online-chat",
            # each event's RSVP poll (rsvp.poll is on by default)
            "ap/polls/spring-repair-day",
            "ap/polls/winter-swap",
            "ap/polls/online-chat",
        ]
    )


def test_disabled_federation_writes_nothing() -> None:
    off = site(federation=FederationConfig(enabled=False))
    assert federation_documents(off) == ({}, [])


def test_missing_key_is_one_warning() -> None:
    docs, diagnostics = federation_documents(site(public_key_pem=None))
    assert docs == {}
    assert diagnostics == [
        Diagnostic(
            "commsite.yaml",
            None,
            "no federation key: the actor, WebFinger and outbox were skipped",
            Severity.WARNING,
            hint="run `commsite keys generate` in the site's folder"
            " (or `commsite keys generate PATH/TO/SITE`)",
        )
    ]


def test_base_url_with_a_path_warns_about_webfinger() -> None:
    _, diagnostics = federation_documents(site(base_url="https://example.org/club/"))
    assert [d.format() for d in diagnostics] == [
        "commsite.yaml: warning: base_url has a path (/club/): Mastodon looks for "
        "/.well-known/webfinger at the root of the domain; serve the site at the root of a "
        "(sub)domain, or copy .well-known/webfinger to the root of example.org"
    ]


def test_webfinger_self_link_loops_back_to_the_actor() -> None:
    jrd = documents()[urls.WEBFINGER]
    assert jrd["subject"] == "acct:riverside@example.org"
    selfs = [link for link in jrd["links"] if link["rel"] == "self"]
    assert selfs == [{"rel": "self", "type": "application/activity+json", "href": ACTOR}]
    actor_doc = documents()[urls.ACTOR]
    # Mastodon's round trip: acct:<preferredUsername>@<host of id> must name the same actor.
    assert f"acct:{actor_doc['preferredUsername']}@example.org" == jrd["subject"]


def test_host_meta_points_at_webfinger() -> None:
    root = ET.fromstring(documents()[urls.HOST_META])
    link = root.find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
    assert link is not None
    assert link.get("rel") == "lrdd"
    assert link.get("template") == "https://example.org/.well-known/webfinger?resource={uri}"


def test_nodeinfo() -> None:
    docs = documents()
    assert docs[urls.NODEINFO_WELL_KNOWN]["links"] == [
        {
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
            "href": "https://example.org/nodeinfo/2.1",
        }
    ]
    info = docs[urls.NODEINFO]
    assert info["version"] == "2.1"
    assert info["software"]["name"] == "commsite"
    assert info["protocols"] == ["activitypub"]
    assert info["openRegistrations"] is False
    assert info["usage"]["users"]["total"] == 1
    assert info["usage"]["localPosts"] == 5  # 2 stories + 3 events


def test_nodeinfo_activity_follows_the_latest_item_published_by_now() -> None:
    """activeMonth and activeHalfyear: whether the newest story or event that has
    been published by the build time is within 30 or 180 days of it (items to
    come do not count), at times before, between and after the items'."""
    s = site()
    moments = sorted([st.date for st in s.stories] + [e.start for e in s.events])
    times = [moments[0] - timedelta(days=1)]
    times += [m + timedelta(days=days) for m in moments for days in (0, 20, 100, 200)]
    seen = set()
    for now in times:
        at = dataclasses.replace(s, now=now)
        federated = [st.date for st in public_stories(at)] + [e.start for e in at.events]
        past = [m for m in federated if m <= now]
        latest = max(past) if past else None
        usage = nodeinfo(at)["usage"]["users"]
        for key, days in (("activeMonth", 30), ("activeHalfyear", 180)):
            expected = int(latest is not None and now - latest <= timedelta(days=days))
            assert usage[key] == expected, (now, key)
            seen.add((key, expected))
    assert len(seen) == 4  # each figure was seen 0 and 1


def test_actor_has_every_field_mastodon_reads() -> None:
    a = actor(site())
    assert a["@context"][:2] == [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
    ]
    extensions = a["@context"][2]
    assert extensions["toot"] == "http://joinmastodon.org/ns#"
    assert extensions["discoverable"] == "toot:discoverable"
    assert extensions["indexable"] == "toot:indexable"
    assert extensions["schema"] == "http://schema.org#"
    assert extensions["PropertyValue"] == "schema:PropertyValue"
    assert extensions["value"] == "schema:value"
    assert a["id"] == ACTOR
    assert a["type"] == "Group"
    assert a["preferredUsername"] == "riverside"
    assert a["name"] == "Riverside Repair Café"
    assert a["summary"] == "<p>We fix toasters &amp; bikes. &lt;Bring&gt; yours!</p>"
    assert a["url"] == "https://example.org/"
    assert a["inbox"] == "https://example.org/ap/inbox"
    assert a["outbox"] == "https://example.org/ap/outbox"
    assert a["followers"] == "https://example.org/ap/followers"
    assert a["endpoints"] == {"sharedInbox": "https://example.org/inbox"}
    assert a["icon"] == {
        "type": "Image",
        "mediaType": "image/png",
        "url": "https://example.org/images/avatar.png",
    }
    assert a["image"]["mediaType"] == "image/jpeg"
    assert a["manuallyApprovesFollowers"] is False
    assert a["discoverable"] is True
    assert a["indexable"] is True
    assert a["webfinger"] == "riverside@example.org"
    assert a["published"] == "2026-03-14T09:00:00Z"  # the earliest story or event
    assert a["publicKey"] == {
        "id": "https://example.org/ap/actor#main-key",
        "owner": ACTOR,
        "publicKeyPem": site().public_key_pem,
    }
    fields = {f["name"]: f["value"] for f in a["attachment"]}
    assert all(f["type"] == "PropertyValue" for f in a["attachment"])
    assert 'href="https://example.org/"' in fields["Website"]
    assert 'href="https://example.org/rules/"' in fields["Rules"]


def test_actor_inbox_on_another_host() -> None:
    a = actor(site(federation=FederationConfig(inbox_url="https://side.example.net/ap/inbox")))
    assert a["inbox"] == "https://side.example.net/ap/inbox"
    assert a["endpoints"]["sharedInbox"] == "https://side.example.net/ap/inbox"


def test_actor_type_follows_config() -> None:
    s = site()
    community = dataclasses.replace(s.config.community, actor_type="Service")
    s = dataclasses.replace(s, config=dataclasses.replace(s.config, community=community))
    assert actor(s)["type"] == "Service"


def _story(s: Site, slug: str) -> Story:
    return next(story for story in s.stories if story.slug == slug)


def test_story_note_shows_title_body_link_and_hashtags() -> None:
    s = site()
    note = story_object(s, _story(s, "tricky-title"))
    assert note["id"] == "https://example.org/ap/stories/tricky-title"
    assert note["type"] == "Note"
    assert note["url"] == "https://example.org/stories/tricky-title/"
    assert note["attributedTo"] == ACTOR
    assert note["to"] == [PUBLIC]
    assert note["cc"] == ["https://example.org/ap/followers"]
    assert note["published"] == "2026-10-20T16:30:00Z"
    assert note["updated"] == "2026-10-21T09:00:00Z"
    assert "summary" not in note  # Mastodon would show it as a content warning
    content = note["content"]
    assert content.startswith(
        "<p><strong>Tools &amp; &lt;Tea&gt; \"quoted\" 'single'</strong></p>"
        "<p><strong>What happened</strong></p>"
    )
    assert "<h2" not in content
    assert 'href="https://example.org/events/spring-repair-day/"' in content
    assert (
        '<a href="https://example.org/tags/repair-cafe/" class="mention hashtag" rel="tag">'
        "#<span>RepairCafé</span></a>"
    ) in content
    assert note["tag"] == [
        {"type": "Hashtag", "href": "https://example.org/tags/repair-cafe/", "name": "#RepairCafé"},
        {"type": "Hashtag", "href": "https://example.org/tags/kettles/", "name": "#kettles"},
    ]
    assert note["attachment"] == [  # (no image_alt: the title stands in; a warning asks for it)
        {
            "type": "Image",
            "mediaType": "image/jpeg",
            "url": "https://example.org/images/kettle.jpg",
            "name": TRICKY,
        }
    ]
    assert note["contentMap"] == {"en": content}


def test_story_as_article() -> None:
    s = site(federation=FederationConfig(story_type="Article"))
    article = story_object(s, _story(s, "tricky-title"))
    assert article["type"] == "Article"
    assert article["name"] == TRICKY
    assert article["summary"] == "We fixed 12 things & a kettle."
    assert article["url"] == "https://example.org/stories/tricky-title/"
    assert "<h2" not in article["content"]


def test_event_summary_spells_out_when_and_where() -> None:
    s = site()
    spring = event_object(s, s.events[0])
    assert spring["type"] == "Event"
    assert spring["name"] == "Spring <Repair> Day & Tea"
    assert spring["summary"] == (
        "Saturday 14 March 2026, 10:00–16:00 (Europe/Berlin) · Community Hall, 1 Main St, "
        "Riverside\n\nBring broken things."
    )
    assert spring["startTime"] == "2026-03-14T10:00:00+01:00"
    assert spring["endTime"] == "2026-03-14T16:00:00+01:00"
    assert spring["location"] == {
        "type": "Place",
        "name": "Community Hall",
        "address": "1 Main St, Riverside",
    }
    assert spring["url"] == "https://example.org/events/spring-repair-day/"
    assert spring["content"] == '<p>Bring <a href="https://example.org/rules/">the rules</a>.</p>'
    assert spring["ical:status"] == "CONFIRMED"
    winter = event_object(s, s.events[1])
    assert winter["summary"].startswith("CANCELLED: Saturday 5 December 2026, 15:00–18:00")
    assert winter["ical:status"] == "CANCELLED"


def test_outbox_pages_newest_first_with_links() -> None:
    s = site()
    many = tuple(
        Story(
            slug=f"s{i:02}",
            title=f"Story {i}",
            date=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=i),
            body_html="<p>x</p>",
            summary="x",
            source=f"content/stories/s{i:02}.md",
        )
        for i in range(40)
    )
    s = dataclasses.replace(s, stories=(*s.stories, *many))
    docs = documents(s)
    box = docs[urls.OUTBOX]
    assert box["type"] == "OrderedCollection"
    assert box["totalItems"] == 45
    assert box["first"] == "https://example.org/ap/outbox-pages/1"
    assert box["last"] == "https://example.org/ap/outbox-pages/3"
    first, second, third = (docs[urls.outbox_page(n)] for n in (1, 2, 3))
    assert first["type"] == "OrderedCollectionPage"
    assert first["partOf"] == "https://example.org/ap/outbox"
    assert "prev" not in first and first["next"] == "https://example.org/ap/outbox-pages/2"
    assert second["prev"].endswith("/1") and second["next"].endswith("/3")
    assert "next" not in third
    assert [len(p["orderedItems"]) for p in (first, second, third)] == [20, 20, 5]
    created = first["orderedItems"][0]
    assert created["type"] == "Create"
    assert created["object"]["id"] == "https://example.org/ap/events/online-chat"  # 2027
    assert "@context" not in created and "@context" not in created["object"]
    objects = [item["object"]["id"] for p in (first, second, third) for item in p["orderedItems"]]
    assert objects[-1].endswith("/ap/stories/s00")  # oldest last


def test_create_update_delete_activities() -> None:
    s = site()
    note = story_object(s, _story(s, "hello"))
    create = create_activity(s, note)
    assert create["id"] == note["id"] + "#create"
    assert create["type"] == "Create"
    assert create["actor"] == ACTOR
    assert create["published"] == note["published"]
    assert (create["to"], create["cc"]) == (note["to"], note["cc"])
    assert create["object"]["id"] == note["id"]
    assert "@context" in create and "@context" not in create["object"]

    when = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    update = update_activity(s, note, when)
    assert update["type"] == "Update"
    assert update["id"] == f"{note['id']}#updates/{int(when.timestamp())}"
    assert update["object"]["updated"] == "2026-11-02T08:00:00Z"
    assert "updated" not in note  # the caller's object is left alone

    delete = delete_activity(s, note["id"])
    assert delete["type"] == "Delete"
    assert delete["object"] == {"id": note["id"], "type": "Tombstone"}
    assert delete["to"] == [PUBLIC]


def test_documents_are_deterministic_and_utf8() -> None:
    first, _ = federation_documents(site())
    second, _ = federation_documents(site())
    assert first == second
    assert "Café".encode() in first[urls.ACTOR]


def test_content_types() -> None:
    assert content_type_for(urls.ACTOR) == "application/activity+json"
    assert content_type_for(urls.outbox_page(2)) == "application/activity+json"
    assert content_type_for(urls.story_object("x")) == "application/activity+json"
    assert content_type_for("/" + urls.WEBFINGER) == "application/jrd+json"
    assert content_type_for(urls.HOST_META) == "application/xrd+xml; charset=utf-8"
    assert content_type_for(urls.NODEINFO) == "application/json"
    assert content_type_for(urls.NODEINFO_WELL_KNOWN) == "application/json"
    assert content_type_for(urls.EVENTS_ICS) == "text/calendar; charset=utf-8"
    assert content_type_for(urls.FEED_ATOM) == "application/atom+xml; charset=utf-8"
    assert content_type_for(urls.FEED_JSON) == "application/feed+json"
    assert content_type_for("stories/x/index.html") is None


def test_event_carries_mobilizons_answering_fields_from_the_rsvps() -> None:
    from commsite.config import ModerationConfig
    from commsite.content.model import Interactions, Rsvp

    s = site()
    spring = dataclasses.replace(s.events[0], capacity=2)

    def going(user: str, **kw: object) -> Rsvp:
        return Rsvp(
            event="spring-repair-day",
            answer="going",
            author_name=user,
            author_handle=f"@{user}@x.example",
            author_url=f"https://x.example/@{user}",
            answered=s.now,
            source="interactions/rsvps/spring-repair-day.yaml",
            **kw,  # type: ignore[arg-type]
        )

    s = dataclasses.replace(
        s,
        events=(spring, *s.events[1:]),
        interactions=Interactions(rsvps=(going("a"), going("b"), going("c", waiting=True))),
    )
    obj = event_object(s, spring)
    assert obj["joinMode"] == "restricted"  # moderation.approve: members holds others' answers
    assert obj["participantCount"] == 2
    assert obj["maximumAttendeeCapacity"] == 2
    assert obj["remainingAttendeeCapacity"] == 0
    assert obj["anonymousParticipationEnabled"] is False
    assert obj["isOnline"] is False
    terms = obj["@context"][1]
    for term in ("joinMode", "participantCount", "remainingAttendeeCapacity", "isOnline"):
        assert terms[term].split(":")[0] in terms  # mz: or schema:, declared
    everyone = dataclasses.replace(
        s, config=dataclasses.replace(s.config, moderation=ModerationConfig(approve="everyone"))
    )
    # Everyone is accepted at once, but the places make a waiting list: an answer
    # may wait, so Mobilizon must wait for the Accept.
    assert event_object(everyone, spring)["joinMode"] == "restricted"
    unlimited = dataclasses.replace(spring, capacity=None)
    assert event_object(everyone, unlimited)["joinMode"] == "free"
    # No capacity: no places to count down.
    online = event_object(s, s.events[2])
    assert "maximumAttendeeCapacity" not in online and online["participantCount"] == 0


def test_a_cancelled_event_says_so_where_mastodon_shows_it() -> None:
    s = site()
    winter = event_object(s, s.events[1])
    assert winter["name"] == "Cancelled: Winter swap"
    assert winter["summary"].startswith("CANCELLED:")
    assert winter["content"].startswith("<p><strong>Cancelled</strong>")
    assert winter["joinMode"] == "invite"  # nobody can join it any more
    postponed = event_object(s, s.events[2])
    assert postponed["name"] == "Postponed: Online chat"
