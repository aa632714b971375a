"""commsite.site_files.lookup, shared by `commsite serve` and `commsite sidecar --serve-site`:
URL path -> file inside the output (never outside), Content-Type, WebFinger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commsite.activitypub.webfinger import webfinger_answer
from commsite.site_files import (
    content_type,
    not_found_body,
    resolve,
    slash_location,
    wants_slash,
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "stories" / "hello").mkdir(parents=True)
    (out / "index.html").write_text("home")
    (out / "stories" / "hello" / "index.html").write_text("hello")
    (out / "ap").mkdir()
    (out / "ap" / "actor").write_text("{}")
    (out / "style.css").write_text("body{}")
    (out / "logo.png").write_bytes(b"\x89PNG")
    (out / "blob.unknownext").write_bytes(b"x")
    (tmp_path / "secret.txt").write_text("outside")
    return out


def test_resolve_finds_files_and_folder_indexes(tree: Path) -> None:
    assert resolve(tree, "/") == (tree / "index.html").resolve()
    assert resolve(tree, "") == (tree / "index.html").resolve()
    assert resolve(tree, "/stories/hello/") == (tree / "stories/hello/index.html").resolve()
    assert resolve(tree, "stories/hello/") == (tree / "stories/hello/index.html").resolve()
    assert resolve(tree, "/ap/actor") == (tree / "ap/actor").resolve()


@pytest.mark.parametrize(
    "path", ["/../secret.txt", "../secret.txt", "/stories/../../secret.txt", "/missing", "/a\x00b"]
)
def test_resolve_never_leaves_the_output(tree: Path, path: str) -> None:
    assert resolve(tree, path) is None


def test_resolve_refuses_a_symlink_out_of_the_output(tree: Path) -> None:
    (tree / "escape").symlink_to(tree.parent / "secret.txt")
    assert resolve(tree, "/escape") is None


def test_a_folder_without_its_slash_is_a_redirect(tree: Path) -> None:
    assert resolve(tree, "/stories/hello") is None
    assert wants_slash(tree, "/stories/hello")
    assert wants_slash(tree, "stories/hello")
    assert not wants_slash(tree, "/stories/hello/")
    assert not wants_slash(tree, "/missing")
    assert not wants_slash(tree, "")


def test_a_folder_redirect_is_never_protocol_relative() -> None:
    assert slash_location("/", "/stories/hello") == "/stories/hello/"
    assert slash_location("/", "//evil.example") == "/evil.example/"
    assert slash_location("/club/", "/stories") == "/club/stories/"
    assert slash_location("/club/", "stories") == "/club/stories/"


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("ap/actor", "application/activity+json"),
        ("index.html", "text/html; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("logo.png", "image/png"),
        ("blob.unknownext", "application/octet-stream"),
    ],
)
def test_content_type(tree: Path, rel: str, expected: str) -> None:
    assert content_type(tree, tree / rel) == expected


def test_not_found_body_is_the_built_page_or_a_stand_in(tree: Path) -> None:
    assert not_found_body(tree) == b"<h1>Not found</h1>"
    (tree / "404.html").write_text("ours")
    assert not_found_body(tree) == b"ours"


JRD = json.dumps(
    {
        "subject": "acct:Garden@Example.org",
        "aliases": ["https://example.org/ap/actor", "https://example.org/"],
        "links": [
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": "https://example.org/ap/Actor2",
            },
            {"rel": "http://webfinger.net/rel/profile-page", "href": "https://example.org/about/"},
        ],
    }
).encode()


@pytest.mark.parametrize(
    "resource",
    [
        "acct:garden@example.org",
        "ACCT:GARDEN@EXAMPLE.ORG",
        " acct:garden@example.org ",
        "garden@example.org",
        "@garden@example.org",
        "https://example.org/ap/actor",
        "https://example.org/",
        "https://EXAMPLE.org/ap/actor2",
    ],
)
def test_webfinger_answers_every_name_in_any_case(resource: str) -> None:
    assert webfinger_answer(JRD, resource) == JRD


@pytest.mark.parametrize(
    "resource",
    [
        "",
        "acct:someone@example.org",
        "acct:garden@example.org.evil",
        "https://example.org/about/",  # a profile page, not one of the actor's names
        "https://example.org/ap/actor/extra",
    ],
)
def test_webfinger_answers_nothing_else(resource: str) -> None:
    assert webfinger_answer(JRD, resource) is None


@pytest.mark.parametrize("jrd", [b"", b"not json", b"[]", b'{"subject": null}'])
def test_webfinger_with_a_broken_jrd_answers_nothing(jrd: bytes) -> None:
    assert webfinger_answer(jrd, "acct:garden@example.org") is None
