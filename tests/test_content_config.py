"""commsite.content.config_loader: commsite.yaml to SiteConfig."""

from __future__ import annotations

from pathlib import Path

import pytest

from commsite.config import SiteConfig
from commsite.content.config_loader import derive_handle, load_config


def load(tmp_path: Path, text: str) -> tuple[SiteConfig | None, list[str]]:
    (tmp_path / "commsite.yaml").write_text(text, encoding="utf-8")
    config, problems = load_config(tmp_path)
    return config, [d.format() for d in problems]


def test_defaults(tmp_path: Path) -> None:
    config, problems = load(tmp_path, "title: Fixers of Eastfield\nbase_url: https://fix.example\n")
    assert problems == []
    assert config is not None
    assert (config.title, config.base_url) == ("Fixers of Eastfield", "https://fix.example/")
    assert config.community.handle == "fixers_of_eastfield"
    assert config.community.name == "Fixers of Eastfield"
    assert config.community.summary == ""
    assert config.community.actor_type == "Group"
    assert config.federation.enabled is True and config.federation.story_type == "Note"
    assert config.moderation.approve == "members"
    assert config.sidecar.port == 8787
    assert (config.language, config.timezone, config.per_page) == ("en", "UTC", 10)


def test_every_key(tmp_path: Path) -> None:
    (tmp_path / "mytheme" / "templates").mkdir(parents=True)
    (tmp_path / "static" / "img").mkdir(parents=True)
    (tmp_path / "static" / "img" / "a.png").write_bytes(b"x")
    text = """\
title: T
base_url: http://localhost:8000/sub
description: D
language: pt-BR
timezone: America/Sao_Paulo
theme: ./mytheme
per_page: 500
community:
  handle: fixers
  name: N
  summary: S
  avatar: img/a.png
  header_image: /img/a.png
  actor_type: Organization
federation:
  enabled: false
  allow_private_addresses: true
  story_type: Article
  inbox_url: https://side.example/inbox
moderation:
  approve: manual
  blocked_domains: [Spam.Example]
  blocked_actors: ["@x@spam.example", https://spam.example/users/y]
  hold_keywords: [crypto]
sidecar:
  host: 0.0.0.0
  port: 9000
  rebuild_webhook: https://ci.example/hook
  data_dir: /var/lib/commsite
  host_aliases: [WWW.Fix.Example, "127.0.0.1:8787", "[::1]"]
"""
    config, problems = load(tmp_path, text)
    assert problems == []
    assert config is not None
    assert config.base_url == "http://localhost:8000/sub/"
    assert config.host == "localhost:8000"
    assert config.fediverse_handle == "@fixers@localhost:8000"
    assert config.community.header_image == "img/a.png"
    assert config.federation.inbox_url == "https://side.example/inbox"
    assert config.moderation.blocked_domains == ("spam.example",)
    assert config.moderation.blocked_actors == ("@x@spam.example", "https://spam.example/users/y")
    assert config.moderation.hold_keywords == ("crypto",)
    assert config.sidecar.port == 9000 and config.sidecar.data_dir == "/var/lib/commsite"
    assert config.sidecar.host_aliases == ("www.fix.example", "127.0.0.1:8787", "[::1]")
    assert config.per_page == 500 and config.tz.key == "America/Sao_Paulo"


@pytest.mark.parametrize(
    ("title", "handle"),
    [
        ("Riverside Repair Café", "riverside_repair_cafe"),
        ("  Tool-Library #1! ", "tool_library_1"),
        ("日本語", "community"),
    ],
)
def test_derive_handle(title: str, handle: str) -> None:
    assert derive_handle(title) == handle


def test_missing_required_keys_and_not_a_mapping(tmp_path: Path) -> None:
    assert load(tmp_path, "description: x\n") == (
        None,
        [
            "commsite.yaml: error: missing required key 'title'; add a line 'title: ...'",
            "commsite.yaml: error: missing required key 'base_url'; add a line 'base_url: ...'",
        ],
    )
    assert load(tmp_path, "- a\n")[1] == [
        "commsite.yaml:1: error: commsite.yaml must be keys and values (got a list); write one"
        " 'key: value' a line, starting with 'title:' and 'base_url:'"
    ]


def test_unknown_nested_key_suggests_a_sibling(tmp_path: Path) -> None:
    config, problems = load(
        tmp_path, "title: T\nbase_url: https://x.example\ncommunity:\n  handel: x\n"
    )
    assert config is not None  # warnings only
    assert problems == [
        "commsite.yaml:4: warning: unknown key 'community.handel'; did you mean 'community.handle'?"
    ]


def test_base_url_with_query(tmp_path: Path) -> None:
    _, problems = load(tmp_path, "title: T\nbase_url: https://x.example/?a=1\n")
    assert problems == [
        "commsite.yaml:2: error: 'base_url' cannot have a query or fragment (got"
        ' "https://x.example/?a=1"); give the address the site is served from,'
        " e.g. https://example.org/"
    ]


def test_yaml_error_in_config(tmp_path: Path) -> None:
    _, problems = load(tmp_path, "title: T\nbase_url: 'https://x.example\n")
    assert len(problems) == 1
    assert problems[0] == (
        "commsite.yaml:2: error: invalid YAML: the quote ' opened here is never closed"
        " (the YAML parser gave up at line 3); end the value with a closing '"
    )


def test_sidecar_port_and_empty_sections(tmp_path: Path) -> None:
    config, problems = load(
        tmp_path, "title: T\nbase_url: https://x.example\nsidecar:\n  port: 70000\nfederation:\n"
    )
    assert config is None
    assert problems == [
        "commsite.yaml:4: error: 'sidecar.port' must be a whole number from 1 to 65535 (got 70000)"
    ]


def test_a_flattened_section_key_suggests_the_nested_form(tmp_path: Path) -> None:
    _, problems = load(
        tmp_path,
        "title: T\nbase_url: https://x.example/\ncommunity_handle: t\nfederation-enabled: false\n",
    )
    assert problems == [
        "commsite.yaml:3: warning: unknown key 'community_handle'; did you mean"
        " 'community.handle'? (write 'handle:' indented under 'community:')",
        "commsite.yaml:4: warning: unknown key 'federation-enabled'; did you mean"
        " 'federation.enabled'? (write 'enabled:' indented under 'federation:')",
    ]


def test_theme_bundled_or_a_folder_with_templates(tmp_path: Path) -> None:
    base = "title: T\nbase_url: https://x.example/\n"
    config, problems = load(tmp_path, base + "theme: default\n")
    assert problems == [] and config is not None and config.theme == "default"
    (tmp_path / "mytheme" / "templates").mkdir(parents=True)
    config, problems = load(tmp_path, base + "theme: mytheme\n")
    assert problems == [] and config is not None and config.theme == "mytheme"
    _, problems = load(tmp_path, base + "theme: Default\n")
    assert problems == [
        "commsite.yaml:3: error: 'theme' is not a bundled theme or a folder (got \"Default\");"
        " did you mean 'default'?"
    ]
    (tmp_path / "plain").mkdir()
    _, problems = load(tmp_path, base + "theme: plain\n")
    assert problems == [
        "commsite.yaml:3: error: 'theme' names the folder plain, which has no templates/"
        " folder; put the theme's templates in plain/templates/, or use a bundled theme: default"
    ]
    _, problems = load(tmp_path, base + "theme: ../elsewhere\n")
    assert len(problems) == 1 and "'theme' is not a bundled theme or a folder" in problems[0]


def test_base_url_scheme_and_host_are_lowercased(tmp_path: Path) -> None:
    config, problems = load(tmp_path, "title: T\nbase_url: HTTPS://Club.Example:8443/Sub\n")
    assert problems == []
    assert config is not None and config.base_url == "https://club.example:8443/Sub/"


def test_base_url_with_a_user_name_is_refused(tmp_path: Path) -> None:
    _, problems = load(tmp_path, "title: T\nbase_url: https://me@club.example/\n")
    assert problems == [
        "commsite.yaml:2: error: 'base_url' cannot contain a user name (got"
        ' "https://me@club.example/"); give only the address, e.g. https://club.example/'
    ]


def test_empty_required_keys_ask_for_a_value(tmp_path: Path) -> None:
    _, problems = load(tmp_path, 'title: ""\nbase_url:\n')
    assert problems == [
        "commsite.yaml:1: error: 'title' is empty; give it a value: title: ...",
        "commsite.yaml:2: error: 'base_url' is empty; give it a value: base_url: ...",
    ]


@pytest.mark.parametrize(
    ("alias", "hint"),
    [
        ("https://www.x.example/", "write just the host: www.x.example"),
        ("x.example:99999", "write e.g. www.example.org, or 127.0.0.1:8787 for one port"),
        ("x.example/inbox", "write e.g. www.example.org, or 127.0.0.1:8787 for one port"),
    ],
)
def test_host_aliases_are_host_names(tmp_path: Path, alias: str, hint: str) -> None:
    config, problems = load(
        tmp_path, f"title: T\nbase_url: https://x.example\nsidecar:\n  host_aliases: ['{alias}']\n"
    )
    assert config is None
    assert problems == [
        "commsite.yaml:4: error: 'sidecar.host_aliases' must list host names, with a port if"
        f' need be (got "{alias}"); {hint}'
    ]


def test_rsvp_words_and_poll_options(tmp_path: Path) -> None:
    from commsite.config import DEFAULT_RSVP_WORDS

    config, problems = load(
        tmp_path,
        "title: T\nbase_url: https://x.example/\nrsvp:\n"
        "  words:\n    going: [ja, 'bin  dabei']\n    not_going: nein\n"
        "  poll: false\n  poll_options: {going: Ich komme, maybe: Vielleicht}\n",
    )
    assert problems == []
    assert config is not None
    assert config.rsvp.words_for("going") == ("ja", "bin dabei")
    assert config.rsvp.words_for("not_going") == ("nein",)
    assert config.rsvp.words_for("maybe") == dict(DEFAULT_RSVP_WORDS)["maybe"]  # kept
    assert config.rsvp.poll is False
    assert config.rsvp.option("going") == "Ich komme"
    assert config.rsvp.option("not_going") == "Can't go"
    default, _ = load(tmp_path, "title: T\nbase_url: https://x.example/\n")
    assert default is not None and default.rsvp.words == DEFAULT_RSVP_WORDS


@pytest.mark.parametrize(
    ("section", "error"),
    [
        ("  words: {coming: [yes]}",
         "commsite.yaml:4: error: 'rsvp.words' has an unknown answer \"coming\";"
         " the answers are going, maybe, not_going"),
        ("  words: {going: ['', ok]}",
         "commsite.yaml:4: error: 'rsvp.words.going' must be a list of non-empty words"),
        ("  words: [going]", "commsite.yaml:4: error: 'rsvp.words' must map answers"),
        ("  poll: sometimes", "commsite.yaml:4: error: 'rsvp.poll' must be"),
        ("  poll_options: {going: Maybe}",
         "commsite.yaml:4: error: 'rsvp.poll_options' gives two answers the same name"),
        ("  poll_options: {going: ''}",
         "commsite.yaml:4: error: 'rsvp.poll_options.going' must be a name of 1 to 50"),
        ("  poll_options: {yes: Going}",
         "commsite.yaml:4: error: 'rsvp.poll_options' has an unknown answer"),
        ("  pol: true", "commsite.yaml:4: warning: unknown key 'rsvp.pol'"),
    ],
)  # fmt: skip
def test_rsvp_section_errors_say_where_and_how(tmp_path: Path, section: str, error: str) -> None:
    _, problems = load(tmp_path, f"title: T\nbase_url: https://x.example/\nrsvp:\n{section}\n")
    assert len(problems) == 1 and problems[0].startswith(error), problems
