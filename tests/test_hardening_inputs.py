"""A site's tree is untrusted input: links never lead out of it, FIFOs never stall
the build, and interactions/ files cannot put a javascript: link on a page.

Each attack is reproduced as issue 15 describes it, through the real build
(and the CLI in a subprocess where the old code would hang). Links are made
in tmp_path: they cannot be committed as fixtures portably.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from commsite.build.run import Builder, BuildOptions, build_site
from commsite.cli import main
from commsite.content.config_loader import load_config
from commsite.content.fields import web_address
from commsite.content.interactions import load_interactions
from commsite.content.safe_files import site_fence
from commsite.render.theme import resolve_theme, theme_assets
from commsite.sidecar.profiles import profile_from_document
from golden.regenerate import SITE, SOURCE_DATE_EPOCH, golden_now

SECRET = "-----BEGIN PRIVATE KEY-----\nnot-really-a-key-but-secret\n-----END PRIVATE KEY-----\n"
REPLY = "interactions/replies/stories/repair-day-recap/0a1b2c3d4e5f.md"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    data = root / ".commsite"
    data.mkdir()
    (data / "private-key.pem").write_text(SECRET)
    return root


def build(root: Path, **options: object) -> tuple[bool, list[str]]:
    result = build_site(BuildOptions(root=root, jobs=1, **options), now=golden_now())  # type: ignore[arg-type]
    return result.ok, [d.format() for d in result.diagnostics]


def published(root: Path) -> bytes:
    """Every byte of the output, to look for what must not be there."""
    return b"".join(tree(root / "public").values()) if (root / "public").exists() else b""


# --- links out of the site ---------------------------------------------------------


def test_a_link_to_the_private_key_is_an_error_and_publishes_nothing(site: Path) -> None:
    assert build(site)[0]
    before = tree(site / "public")
    (site / "static" / "key.txt").symlink_to("../.commsite/private-key.pem")
    ok, diagnostics = build(site)
    assert not ok
    real = (site / ".commsite" / "private-key.pem").resolve()
    assert diagnostics == [
        f"static/key.txt: error: this file links into the data directory (to {real});"
        " remove the link: nothing in there is ever published"
    ]
    assert tree(site / "public") == before  # the previous output, untouched


def test_a_link_to_the_builds_environment_is_an_error(site: Path) -> None:
    if not os.path.exists("/proc/self/environ"):
        pytest.skip("no /proc/self/environ on this system")
    (site / "static" / "env.txt").symlink_to("/proc/self/environ")
    ok, diagnostics = build(site)
    assert not ok
    assert len(diagnostics) == 1
    assert re.fullmatch(
        r"static/env\.txt: error: this file links outside the site \(to /proc/\d+/environ\);"
        r" copy the file into the site instead of linking to it",
        diagnostics[0],
    ), diagnostics
    assert not (site / "public").exists()


def test_a_linked_story_file_from_outside_is_an_error(site: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "story.md"
    outside.parent.mkdir()
    outside.write_text("---\ntitle: Smuggled\ndate: 2026-01-01\n---\nFrom outside the site.\n")
    (site / "content" / "stories" / "2026-01-01-smuggled.md").symlink_to(outside)
    ok, diagnostics = build(site)
    assert not ok
    assert diagnostics == [
        f"content/stories/2026-01-01-smuggled.md: error: this file links outside the site"
        f" (to {outside.resolve()}); copy the file into the site instead of linking to it"
    ]
    # `commsite check` says the same, and exits 1.
    result = CliRunner().invoke(main, ["check", str(site)])
    assert result.exit_code == 1
    assert "content/stories/2026-01-01-smuggled.md: error: this file links outside" in (
        result.output
    )


def test_a_linked_folder_in_static_from_outside_is_an_error(site: Path, tmp_path: Path) -> None:
    outside = tmp_path / "home"
    (outside / ".ssh").mkdir(parents=True)
    (outside / ".ssh" / "id_rsa").write_text(SECRET)
    (site / "static" / "docs").symlink_to(outside)
    ok, diagnostics = build(site)
    assert not ok
    assert diagnostics == [
        f"static/docs: error: this folder links outside the site (to {outside.resolve()});"
        " copy the folder into the site instead of linking to it"
    ]
    assert b"not-really-a-key" not in published(site)


def test_a_dangling_link_is_an_error_not_a_traceback(site: Path) -> None:
    (site / "static" / "gone.css").symlink_to("missing.css")
    result = CliRunner().invoke(main, ["build", str(site)])
    assert result.exit_code == 1, result.output
    assert (
        "static/gone.css: error: this link leads nowhere (to missing.css, which does not"
        " exist); remove the link, or copy the file it meant into the site"
    ) in result.output
    assert "Traceback" not in result.output


def test_a_folder_link_that_loops_is_an_error(site: Path) -> None:
    (site / "static" / "images" / "again").symlink_to("..")
    ok, diagnostics = build(site)
    assert not ok
    assert diagnostics == [
        f"static/images/again: error: this folder links to a folder it is in"
        f" (to {(site / 'static').resolve()}): a loop; remove the link"
    ]


@pytest.mark.parametrize("into", [".git/config", "public/index.html"])
def test_links_into_git_or_the_output_are_errors(site: Path, into: str) -> None:
    assert build(site)[0]
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text("[remote]\n")
    (site / "static" / "x.txt").symlink_to(f"../{into}")
    ok, diagnostics = build(site)
    assert not ok
    assert (
        len(diagnostics) == 1 and "static/x.txt: error: this file links into " in (diagnostics[0])
    )


def test_links_that_stay_inside_the_site_are_followed(site: Path) -> None:
    (site / "static" / "mending.svg").symlink_to("images/visible-mending.svg")
    (site / "static" / "pictures").symlink_to("images")
    ok, diagnostics = build(site)
    assert ok, diagnostics
    svg = (site / "static" / "images" / "visible-mending.svg").read_bytes()
    assert (site / "public" / "mending.svg").read_bytes() == svg
    assert (site / "public" / "pictures" / "visible-mending.svg").read_bytes() == svg
    assert not (site / "public" / "mending.svg").is_symlink()


def test_a_link_added_while_serving_fails_the_next_build(site: Path) -> None:
    """The preview's rebuild from a watcher's report, and its later full scan."""
    with Builder(BuildOptions(root=site, jobs=1)) as builder:
        assert builder.build(now=golden_now()).ok
        link = site / "static" / "key.txt"
        link.symlink_to("../.commsite/private-key.pem")
        result = builder.build([link], trusted=True, now=golden_now())
        assert not result.ok
        assert [d.path for d in result.diagnostics] == ["static/key.txt"]
        link.unlink()
        (site / "static" / "a.css").write_text("p {}\n")
        assert builder.build([site / "static" / "a.css"], trusted=True, now=golden_now()).ok
        # An edit that replaces a file by a link is not trusted as an edit.
        (site / "static" / "a.css").unlink()
        (site / "static" / "a.css").symlink_to("/etc/hostname")
        result = builder.build([site / "static" / "a.css"], trusted=True, now=golden_now())
        assert not result.ok
        assert [d.path for d in result.diagnostics] == ["static/a.css"]


def test_a_no_change_build_after_a_refused_link_is_not_a_success(site: Path) -> None:
    """The no-change shortcut compares the inputs: a refused link adds no file,
    and must still fail the build rather than reuse the last good one."""
    assert build(site)[0]
    (site / "static" / "gone.css").symlink_to("missing.css")
    assert not build(site)[0]
    assert not build(site)[0]


def test_commsite_yaml_that_links_out_is_refused(site: Path, tmp_path: Path) -> None:
    real = tmp_path / "other.yaml"
    shutil.move(site / "commsite.yaml", real)
    (site / "commsite.yaml").symlink_to(real)
    ok, diagnostics = build(site)
    assert not ok
    assert diagnostics == [
        f"commsite.yaml: error: this file links outside the site (to {real.resolve()});"
        " copy the file into the site instead of linking to it"
    ]


# --- themes kept outside the site --------------------------------------------------


def test_a_theme_outside_the_site_is_read_but_its_links_stay_inside_it(
    site: Path, tmp_path: Path
) -> None:
    theme = tmp_path / "mytheme"
    (theme / "templates").mkdir(parents=True)
    (theme / "static").mkdir()
    (theme / "static" / "extra.css").write_text("p { color: teal }\n")
    config = site / "commsite.yaml"
    config.write_text(config.read_text() + "theme: ../mytheme\n")
    ok, diagnostics = build(site)
    assert ok, diagnostics
    assert (site / "public" / "extra.css").read_text() == "p { color: teal }\n"

    (theme / "static" / "key.txt").symlink_to(site / ".commsite" / "private-key.pem")
    ok, diagnostics = build(site)
    assert not ok
    assert diagnostics == [
        f"{theme}/static/key.txt: error: this file links outside {(theme / 'static').resolve()}"
        f" (to {(site / '.commsite' / 'private-key.pem').resolve()});"
        " copy the file into that folder instead of linking to it"
    ]


# --- FIFOs, sockets, devices -------------------------------------------------------


def test_a_fifo_named_like_a_story_is_skipped_with_a_warning_and_never_opened(
    site: Path,
) -> None:
    for rel in ("content/stories/x.md", "static/x.md", f"{REPLY[:-3]}-x.md", "theme/x.md"):
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(site / rel)
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    for command in ("build", "check"):
        # The old build opened the FIFO and waited for a writer for ever.
        done = subprocess.run(
            [sys.executable, "-m", "commsite", command, str(site)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        for rel in ("content/stories/x.md", "static/x.md", f"{REPLY[:-3]}-x.md", "theme/x.md"):
            assert (
                f"{rel}: warning: this is a FIFO (named pipe), not a file: it is not read;"
                " remove it from the site's folders"
            ) in done.stderr, done.stderr
    assert not (site / "public" / "x.md").exists()


# --- interactions/ files are untrusted -------------------------------------------------


def test_a_javascript_author_url_in_an_interactions_file_is_refused(site: Path) -> None:
    reply = site / REPLY
    reply.write_text(
        reply.read_text().replace(
            "author_url: https://social.example/@sam",
            "author_url: 'javascript:alert(document.domain)'",
        )
    )
    ok, diagnostics = build(site)
    assert not ok
    assert diagnostics == [
        f"{REPLY}:8: error: 'author_url' must be a web address starting with https:// or"
        ' http:// (got "javascript:alert(document.domain)"); only http and https links'
        " are published"
    ]
    assert b"javascript:" not in published(site)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("author_url", "data:text/html,<script>alert(1)</script>"),
        ("author_url", "vbscript:msgbox(1)"),
        ("author_url", '"java\\tscript:alert(1)"'),
        ("author_url", '"\\x01javascript:alert(1)"'),
        ("author_url", "//evil.example/@sam"),
        ("author_url", "/relative"),
        ("url", "JavaScript:alert(1)"),
        ("url", '"https://social.example/\\n@sam"'),
        ("author_avatar", "javascript:alert(1)"),
        ("in_reply_to", "javascript:alert(1)"),
        ("id", "urn:uuid:1"),
    ],
)
def test_every_url_field_of_an_interactions_file_is_checked(
    tmp_path: Path, key: str, value: str
) -> None:
    text = (SITE / REPLY).read_text()
    lines = [line for line in text.splitlines() if not line.startswith(f"{key}:")]
    lines.insert(1, f"{key}: {value}")
    (tmp_path / REPLY).parent.mkdir(parents=True)
    (tmp_path / REPLY).write_text("\n".join(lines) + "\n")
    interactions, problems = load_interactions(tmp_path)
    assert interactions.replies == ()
    assert [(d.path, d.line, d.message.split(" (got")[0]) for d in problems] == [
        (REPLY, 2, f"'{key}' must be a web address starting with https:// or http://")
    ]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://social.example/@sam", True),
        ("  http://x.example/a b  ", True),
        ("HTTPS://X.EXAMPLE/", True),
        ("java\tscript:alert(1)", False),
        ("ht\ttps://x.example/", False),
        ("\x00https://x.example/", False),
        ("https://x.example/\x85", False),
        ("https:x.example", False),
        ("https:///path", False),
        ("http://[::1", False),
        ("mailto:a@b.example", False),
        ("", False),
    ],
)
def test_web_address(url: str, ok: bool) -> None:
    assert (web_address(url) is not None) == ok


def test_the_sidecar_keeps_no_address_the_loader_would_refuse() -> None:
    """What the sidecar stores from the network is exported into interactions/:
    it makes the same check, so an export never breaks the next build."""
    actor = "https://r.example/users/u"
    profile = profile_from_document(
        {
            "id": actor,
            "type": "Person",
            "preferredUsername": "u",
            "url": "java\tscript:alert(1)",
            "icon": {"url": "https://r.example/\x00a.png"},
        },
        actor,
    )
    assert (profile.url, profile.avatar) == (actor, None)


def test_a_content_folder_linked_out_of_the_site_names_nothing_in_it(
    site: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "home"
    outside.mkdir()
    (outside / "id_rsa").write_text(SECRET)
    shutil.rmtree(site / "content" / "pages")
    (site / "content" / "pages").symlink_to(outside)
    ok, diagnostics = build(site)
    assert not ok  # and no "content/pages/id_rsa: this file is not read" either
    assert diagnostics == [
        f"content/pages: error: this folder links outside the site (to {outside.resolve()});"
        " copy the folder into the site instead of linking to it"
    ]


def test_a_data_directory_inside_static_is_never_published(site: Path) -> None:
    """sidecar.data_dir is commsite.yaml's to choose (a pull request can change
    it): wherever it is, the build reads nothing in it."""
    config = site / "commsite.yaml"
    config.write_text(config.read_text() + "sidecar:\n  data_dir: static/private\n")
    (site / "static" / "private").mkdir()
    (site / "static" / "private" / "private-key.pem").write_text(SECRET)
    ok, diagnostics = build(site)
    assert ok, diagnostics
    assert not (site / "public" / "private").exists()
    assert b"not-really-a-key" not in published(site)


def test_a_theme_folder_linked_out_of_the_site_is_an_error(site: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "static").mkdir(parents=True)
    (outside / "static" / "id_rsa").write_text(SECRET)
    (site / "theme").symlink_to(outside)
    ok, diagnostics = build(site)
    assert not ok
    assert diagnostics == [
        f"theme: error: this folder links outside the site (to {outside.resolve()});"
        " copy the folder into the site instead of linking to it"
    ]
    # The walks after the scan refuse it too: theme/static is behind the link.
    config, _ = load_config(site)
    assert config is not None
    assert "id_rsa" not in theme_assets(resolve_theme(site, config), site_fence(site))
