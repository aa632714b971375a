"""The protocol's media types: one definition for what we serve, send and accept."""

from __future__ import annotations

import pytest

from commsite import urls
from commsite.activitypub.media_types import (
    ACCEPT,
    ACTIVITY_JSON,
    essence,
    is_activity_json,
)
from commsite.site_files import content_type_for


def test_what_we_serve_is_what_we_ask_for_first() -> None:
    assert content_type_for(urls.ACTOR) == ACTIVITY_JSON
    assert ACCEPT.split(",")[0] == ACTIVITY_JSON


@pytest.mark.parametrize(
    ("value", "taken"),
    [
        ("application/activity+json", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        ("Application/LD+JSON", True),
        ("application/json; charset=utf-8", True),
        ("text/html", False),
        ("application/activity+jsonx", False),
        ("", False),
        (None, False),
    ],
)
def test_documents_taken_as_activitystreams(value: str | None, taken: bool) -> None:
    assert is_activity_json(value) is taken


def test_essence_drops_parameters_and_case() -> None:
    assert essence(' Application/Activity+JSON ; charset="utf-8"') == "application/activity+json"
