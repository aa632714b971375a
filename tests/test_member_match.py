"""Matching the authors of replies and introductions to members, in every form a
fediverse account can name itself (content/member_match.py)."""

from __future__ import annotations

import pytest

from commsite.content.member_match import MemberMatcher, normal_handle, normal_url
from commsite.content.model import Member


def member(id: str, handle: str | None = None, *links: str) -> Member:
    return Member(
        id=id,
        name=id.title(),
        bio_html="",
        source=f"content/members/{id}.md",
        handle=handle,
        links=tuple((f"Link {n}", url) for n, url in enumerate(links)),
    )


MATCHER = MemberMatcher.of(
    [
        member("ada", "@ada@Eastfield.Example"),
        member("priya", "@priya@threads.example"),
        member("leila", None, "https://Fedi.Example:443/users/leila/", "not a url"),
        member("nohandle"),
    ]
)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"handle": "@ada@eastfield.example"}, "ada"),
        ({"handle": "@ADA@EASTFIELD.EXAMPLE"}, "ada"),  # user and host case-insensitively
        ({"handle": "ada@eastfield.example."}, "ada"),  # no leading @, a trailing dot
        ({"handle": "@ada@eastfield.example:443"}, "ada"),  # a default port
        ({"handle": "@ada@eastfield.example:8443"}, None),  # another port is another server
        ({"handle": "@ada@elsewhere.example"}, None),
        ({"handle": "@adam@eastfield.example"}, None),
        # FEP-2c59: the actor lives on social.threads.example, the handle names threads.example
        (
            {"handle": "@priya@social.threads.example", "webfinger": "acct:priya@threads.example"},
            "priya",
        ),
        (
            {"handle": "@priya@social.threads.example", "webfinger": "priya@threads.example"},
            "priya",
        ),
        (
            {"handle": "@priya@social.threads.example", "webfinger": "@Priya@Threads.Example"},
            "priya",
        ),
        ({"handle": "@priya@social.threads.example"}, None),
        # preferredUsername + the actor URL's host
        (
            {
                "handle": None,
                "actor": "https://EASTFIELD.example/users/x",
                "preferred_username": "Ada",
            },
            "ada",
        ),
        # the actor URL a member lists under `links`
        ({"handle": "@someone@fedi.example", "actor": "https://fedi.example/users/leila"}, "leila"),
        ({"handle": "https://fedi.example/users/leila"}, "leila"),  # exported without a username
        ({"handle": "@x@fedi.example", "actor": "http://fedi.example/users/leila"}, None),
        ({"handle": "@x@fedi.example", "actor": "https://fedi.example/users/leila2"}, None),
        ({"handle": "", "webfinger": "not a handle", "actor": "javascript:alert(1)"}, None),
    ],
)
def test_every_form_of_an_author_finds_its_member(
    fields: dict[str, str | None], expected: str | None
) -> None:
    handle = fields.pop("handle")
    assert MATCHER.match(handle, **fields) == expected


def test_normal_forms() -> None:
    assert normal_handle("acct:Ada@Host.Example:80") == "@ada@host.example"
    assert normal_handle("@a@b@c") is None and normal_handle("@ada") is None
    assert normal_handle("@a b@host") is None and normal_handle(None) is None
    assert normal_url("HTTPS://Host.Example:443/a/") == "https://host.example/a"
    assert normal_url("https://host.example:8443/a?b=1") == "https://host.example:8443/a?b=1"
    assert normal_url("ftp://host.example/") is None and normal_url("https://[::1") is None


def test_the_first_member_listing_a_handle_keeps_it() -> None:
    matcher = MemberMatcher.of([member("a", "@x@h.example"), member("b", "@X@H.example")])
    assert matcher.match("@x@h.example") == "a"
