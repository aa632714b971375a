"""The rebuild webhook triggers a CI pipeline: GitHub's repository dispatch and
GitLab's pipeline trigger, with the token from the environment.

The receiving end is the standard library's http.server on loopback, standing in
for api.github.com and gitlab.com; the tests check the method, path, headers and
body each would get, and that the event type is the one the workflow that
`commsite init` writes listens to.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from commsite.cli import main
from commsite.content.config_loader import load_config
from commsite.sidecar.rebuild import EVENT_TYPE, RebuildHook, rebuild_hook
from commsite.sidecar.worker import RebuildNotifier

TOKEN = "ghp_" + "x" * 36  # the shape of a GitHub token; never in commsite.yaml


@dataclass
class Seen:
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    status: int = 204


@pytest.fixture
def ci() -> Iterator[tuple[str, Seen]]:
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.requests.append((self.command, self.path, dict(self.headers.items()), body))
            self.send_response(seen.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _site(tmp_path: Path, sidecar: str) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    (root / "commsite.yaml").write_text(
        f"title: Fixers\nbase_url: https://fixers.example/\nsidecar:\n{sidecar}", encoding="utf-8"
    )
    return root


def test_github_gets_a_repository_dispatch_with_the_token_in_a_header(
    ci: tuple[str, Seen], tmp_path: Path
) -> None:
    base, seen = ci
    root = _site(
        tmp_path,
        f"  rebuild_webhook: {base}/repos/fixers/site/dispatches\n"
        "  rebuild_token_env: FIXERS_DISPATCH_TOKEN\n",
    )
    config, problems = load_config(root)
    assert config is not None and problems == []
    assert TOKEN not in (root / "commsite.yaml").read_text()
    hook = rebuild_hook(config.sidecar, {"FIXERS_DISPATCH_TOKEN": f" {TOKEN}\n"})
    assert hook is not None and hook.kind == "github" and hook.problem() is None
    assert RebuildNotifier(hook, delays=()).send_now(["approved 2 item(s)"])
    [(method, path, headers, body)] = seen.requests
    assert (method, path) == ("POST", "/repos/fixers/site/dispatches")
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "event_type": "commsite-rebuild",
        "client_payload": {"reasons": ["approved 2 item(s)"]},
    }


def test_the_dispatch_type_is_the_one_the_generated_workflow_runs_on() -> None:
    starter = resources.files("commsite").joinpath("starter")
    workflow = starter.joinpath("ci/github/dot-github/workflows/commsite.yml").read_text("utf-8")
    triggers = yaml.safe_load(workflow)[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["repository_dispatch"] == {"types": [EVENT_TYPE]}


def test_gitlab_gets_a_pipeline_trigger_with_token_and_branch_in_the_body(
    ci: tuple[str, Seen], tmp_path: Path
) -> None:
    base, seen = ci
    root = _site(
        tmp_path,
        f"  rebuild_webhook: {base}/api/v4/projects/4242/trigger/pipeline\n"
        "  rebuild_token_env: GITLAB_TRIGGER\n"
        "  rebuild_ref: live\n",
    )
    config, _ = load_config(root)
    assert config is not None
    hook = rebuild_hook(config.sidecar, {"GITLAB_TRIGGER": "glptt-abc123"})
    assert hook is not None and hook.kind == "gitlab"
    assert RebuildNotifier(hook, delays=()).send_now(["a reply was edited"])
    [(method, path, headers, body)] = seen.requests
    assert (method, path) == ("POST", "/api/v4/projects/4242/trigger/pipeline")
    assert "Authorization" not in headers
    assert json.loads(body) == {
        "token": "glptt-abc123",
        "ref": "live",
        "variables": {"COMMSITE_REBUILD": "a reply was edited"},
    }


def test_a_plain_webhook_keeps_its_body_and_sends_a_token_only_when_configured(
    ci: tuple[str, Seen],
) -> None:
    base, seen = ci
    assert RebuildNotifier(f"{base}/hook", delays=()).send_now(["x"])
    assert RebuildNotifier(RebuildHook.at(f"{base}/hook", "s3cret"), delays=()).send_now(["y"])
    (_, _, first, body1), (_, _, second, body2) = seen.requests
    assert "Authorization" not in first and second["Authorization"] == "Bearer s3cret"
    assert json.loads(body1) == {"event": "interactions-changed", "reasons": ["x"]}
    assert json.loads(body2) == {"event": "interactions-changed", "reasons": ["y"]}


def test_a_refused_dispatch_is_retried_then_given_up(ci: tuple[str, Seen]) -> None:
    base, seen = ci
    seen.status = 401  # a wrong or expired token
    hook = RebuildHook.at(f"{base}/repos/a/b/dispatches", "old")
    assert not RebuildNotifier(hook, delays=(0.01,)).send_now(["x"])
    assert len(seen.requests) == 2


def test_a_missing_token_is_said_before_the_first_call(tmp_path: Path) -> None:
    root = _site(
        tmp_path,
        "  rebuild_webhook: https://api.github.com/repos/fixers/site/dispatches\n"
        "  rebuild_token_env: FIXERS_DISPATCH_TOKEN\n",
    )
    config, _ = load_config(root)
    assert config is not None
    hook = rebuild_hook(config.sidecar, {})
    assert hook is not None and hook.kind == "github" and hook.token is None
    assert hook.problem() == (
        "the environment variable FIXERS_DISPATCH_TOKEN (sidecar.rebuild_token_env) is not set"
        " or empty, so the rebuild webhook is called without a token; set it where the sidecar"
        " runs"
    )
    unnamed = RebuildHook.at("https://api.github.com/repos/fixers/site/dispatches")
    assert unnamed.problem() is not None and "sidecar.rebuild_token_env" in unnamed.problem()
    assert RebuildHook.at("https://ci.example/hook").problem() is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            TOKEN,
            "commsite.yaml:5: error: 'sidecar.rebuild_token_env' looks like a token, not the"
            " name of an environment variable; never put a token in commsite.yaml: revoke this"
            " one, put the new one in an environment variable, e.g. COMMSITE_REBUILD_TOKEN, and"
            " write that name here",
        ),
        (
            "$GITHUB_TOKEN",
            "commsite.yaml:5: error: 'sidecar.rebuild_token_env' must be the name of an"
            ' environment variable (got "$GITHUB_TOKEN"); use letters, digits and _, e.g.'
            " COMMSITE_REBUILD_TOKEN",
        ),
    ],
)
def test_a_token_or_a_bad_name_in_the_config_is_an_error(
    tmp_path: Path, value: str, message: str
) -> None:
    root = _site(
        tmp_path,
        "  rebuild_webhook: https://api.github.com/repos/fixers/site/dispatches\n"
        f'  rebuild_token_env: "{value}"\n',
    )
    result = CliRunner().invoke(main, ["check", str(root)])
    assert result.exit_code == 1
    assert message in result.output, result.output
