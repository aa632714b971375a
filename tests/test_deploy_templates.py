"""The CI pipelines `commsite init --ci` writes are tested as code.

* Both parse as YAML and have the shape GitHub and GitLab need.
* Every `commsite ...` command line in them parses against the real click
  command tree (commands, subcommands, options), not a list kept by hand.
* Their shell steps run, on a fixture site in a temporary folder, with
  `commsite` on PATH from this virtual environment. The GitHub workflow is run
  job by job the way a runner would: `if:` conditions, `env:` with secrets,
  `$GITHUB_OUTPUT`; `uses:` steps are not run, except that checkout, and the
  cache actions' restore and save, are copied by hand (a folder per key), so two
  pushes show the build is incremental across runs, what the caches hold, and
  that the publish record carries over. `deploy-pages` and `setup-python` are
  GitHub's and are skipped; so is the step that pip-installs commsite.
* Publishing runs for real: the followers' list comes from the real sidecar on
  loopback (`--sync-followers`), and a Create reaches a follower's server that
  checks our signature with another library (publish_peers.Instance).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from cli_process import free_port
from commsite.cli import main
from commsite.database import connect
from commsite.datadir import DataDir
from commsite.federation.followers import Follower, FollowerStore
from commsite.progress import INTERVAL_ENV
from publish_peers import Instance, Origin, serve_actor, write_site, write_story
from sidecar_peer import SidecarServer

BIN = Path(sys.executable).parent
NOW = datetime.now(UTC).replace(microsecond=0)
WORKFLOW = ".github/workflows/commsite.yml"
GITLAB = ".gitlab-ci.yml"


def _init(tmp_path: Path, ci: str) -> Path:
    target = tmp_path / f"init-{ci}"
    result = CliRunner().invoke(
        main, ["init", str(target), "--ci", ci, "--base-url", "https://fixers.example/"]
    )
    assert result.exit_code == 0, result.output
    return target


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# --- shape -----------------------------------------------------------------------------


def test_the_github_workflow_has_the_triggers_permissions_and_actions_it_needs(
    tmp_path: Path,
) -> None:
    workflow = _load(_init(tmp_path, "github") / WORKFLOW)
    on = workflow[True]  # YAML 1.1 reads `on:` as the key True, as GitHub does not
    assert on["push"] == {"branches": ["main"]}
    assert on["repository_dispatch"] == {"types": ["commsite-rebuild"]}
    assert "workflow_dispatch" in on and on["schedule"]
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"] == {"group": "commsite", "cancel-in-progress": False}
    assert workflow["env"]["COMMSITE_INSTALL"] == f"commsite=={_version()}"
    jobs = workflow["jobs"]
    assert list(jobs) == ["build", "deploy", "announce"]
    assert jobs["deploy"]["needs"] == "build" and jobs["announce"]["needs"] == "deploy"
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["deploy"]["environment"]["name"] == "github-pages"
    uses = [s["uses"] for job in jobs.values() for s in job["steps"] if "uses" in s]
    for action in uses:  # pinned by major version
        assert re.fullmatch(r"actions/[a-z-]+(/[a-z]+)?@v\d+", action), action
    assert "actions/upload-pages-artifact@v5" in uses and "actions/deploy-pages@v5" in uses
    upload = next(s for s in jobs["build"]["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"] == {"path": "public", "include-hidden-files": True}  # .well-known


def test_a_branch_other_than_main_is_written_into_the_workflow(tmp_path: Path) -> None:
    target = tmp_path / "site"
    (target / ".git").mkdir(parents=True)
    (target / ".git" / "HEAD").write_text("ref: refs/heads/trunk\n")
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert _load(target / WORKFLOW)[True]["push"] == {"branches": ["trunk"]}
    assert "on every push to 'trunk'" in result.output


def test_init_never_replaces_an_existing_pipeline(tmp_path: Path) -> None:
    target = tmp_path / "site"
    (target / ".github" / "workflows").mkdir(parents=True)
    mine = target / WORKFLOW
    mine.write_text("name: mine\n")
    (target / GITLAB).write_text("pages: {script: [make]}\n")
    result = CliRunner().invoke(main, ["init", str(target), "--force"])
    assert result.exit_code == 0, result.output
    assert mine.read_text() == "name: mine\n"
    assert f"Kept your {WORKFLOW}: the commsite pipeline was not written" in result.output
    gitlab = CliRunner().invoke(main, ["init", str(target), "--force", "--ci", "gitlab"])
    assert (target / GITLAB).read_text() == "pages: {script: [make]}\n"
    assert f"Kept your {GITLAB}" in gitlab.output
    # A link in its place (a hostile clone) is not written through either.
    linked = tmp_path / "linked"
    (linked / ".github" / "workflows").mkdir(parents=True)
    (linked / WORKFLOW).symlink_to(tmp_path / "outside.yml")
    assert CliRunner().invoke(main, ["init", str(linked), "--force"]).exit_code == 0
    assert not (tmp_path / "outside.yml").exists()
    none = tmp_path / "plain"
    assert CliRunner().invoke(main, ["init", str(none), "--ci", "none"]).exit_code == 0
    assert not (none / ".github").exists() and not (none / GITLAB).exists()
    wrong = CliRunner().invoke(main, ["init", str(tmp_path / "x"), "--ci", "jenkins"])
    assert wrong.exit_code == 2 and "'jenkins' is not one of 'github', 'gitlab', 'none'" in (
        wrong.output
    )


def test_the_gitlab_pipeline_has_a_pages_job_and_caches_nothing_secret(tmp_path: Path) -> None:
    pipeline = _load(_init(tmp_path, "gitlab") / GITLAB)
    assert pipeline["stages"] == ["check", "build", "announce"]
    assert pipeline["pages"]["artifacts"]["paths"] == ["public"]
    assert pipeline["announce"]["needs"] == ["pages"]
    assert pipeline["variables"]["COMMSITE_INSTALL"] == f"commsite=={_version()}"
    cached = [p for job in pipeline.values() if isinstance(job, dict) for p in _cache_paths(job)]
    assert cached == [".commsite/build-cache/", "public/", ".commsite/commsite.sqlite3"]


def _cache_paths(job: dict[str, Any]) -> list[str]:
    cache = job.get("cache")
    return list(cache["paths"]) if isinstance(cache, dict) else []


def _version() -> str:
    from commsite import __version__

    return __version__


# --- every commsite command line names a command and options that exist ----------------


def _command_lines(script: str) -> list[list[str]]:
    """Each `commsite ...` invocation in a shell script, as words."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        for part in re.split(r";|&&|\|\||\bthen\b|\bdo\b", line):
            words = shlex.split(part, comments=True)
            if words and words[0] == "commsite":
                found.append(words[1:])
    return found


def _scripts(tmp_path: Path) -> list[str]:
    workflow = _load(_init(tmp_path, "github") / WORKFLOW)
    scripts = [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "run" in s]
    pipeline = _load(_init(tmp_path, "gitlab") / GITLAB)
    for job in pipeline.values():
        if isinstance(job, dict):
            for key in ("before_script", "script", "after_script"):
                scripts += job.get(key, [])
    return scripts


def _resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    """The click command `words` name (through groups), and the words left for it."""
    command: click.Command = main
    ctx = click.Context(main)
    words = list(words)
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        sub = command.get_command(ctx, words[0])
        assert sub is not None, f"no command {words[0]!r} under {command.name!r}"
        command, words = sub, words[1:]
        ctx = click.Context(command, parent=ctx)
    return command, words


def test_every_commsite_command_and_option_in_the_pipelines_exists(tmp_path: Path) -> None:
    lines = [words for script in _scripts(tmp_path) for words in _command_lines(script)]
    assert sorted({words[0] for words in lines}) == ["build", "check", "publish"]
    for words in lines:
        command, rest = _resolve(words)
        known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        for word in rest:
            if word.startswith("-"):
                assert word.split("=")[0] in known, f"`commsite {' '.join(words)}`: no {word}"
        # And click itself parses the whole line (values, arguments, choices).
        command.make_context(command.name or "", list(rest))


# --- running the GitHub workflow --------------------------------------------------------


@dataclass
class Runner:
    """Runs a workflow's jobs as GitHub would, minus GitHub (see the module docstring)."""

    repository: Path  # what checkout copies
    root: Path  # runner workspaces and the cache live under it
    secrets: dict[str, str]
    run_id: int = 1
    caches: dict[str, Path] = field(default_factory=dict)  # key -> saved folder
    cache_order: list[str] = field(default_factory=list)
    log: list[tuple[str, str, str]] = field(default_factory=list)  # (step, stdout, stderr)
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    after_step: dict[str, Any] = field(default_factory=dict)  # step name -> hook(workspace)

    def run(self, workflow: dict[str, Any]) -> None:
        for name, job in workflow["jobs"].items():
            self.job(workflow, name, job)
        self.run_id += 1

    def job(self, workflow: dict[str, Any], name: str, job: dict[str, Any]) -> None:
        # A fresh runner, its workspace at the same path every run (as GitHub's
        # /home/runner/work/REPO/REPO: the build record is about that folder).
        workspace = self.root / "work" / name
        if workspace.exists():
            shutil.rmtree(workspace)
        workspace.mkdir(parents=True)
        outputs: dict[str, dict[str, str]] = {}
        for step in job["steps"]:
            label = step.get("name") or step.get("uses") or step.get("id")
            if "if" in step and not self.condition(step["if"], outputs):
                self.skipped.append(label)
                continue
            if "uses" in step:
                self.action(step, workspace)
                continue
            if step.get("id") == "install":  # commsite comes from this venv
                self.skipped.append(label)
                continue
            output = self.root / f"output-{self.run_id}-{name}-{len(self.ran)}"
            output.write_text("")
            env = {
                **os.environ,
                "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
                "GITHUB_OUTPUT": str(output),
                "GITHUB_SHA": "0" * 40,
                INTERVAL_ENV: "0.000001",  # progress lines on every call: see the Took line
            }
            for key, value in {**workflow.get("env", {}), **step.get("env", {})}.items():
                env[key] = self.expand(str(value), outputs)
            done = subprocess.run(
                ["bash", "-e", "-c", step["run"]],
                cwd=workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            self.log.append((label, done.stdout, done.stderr))
            assert done.returncode == 0, f"{label}: exit {done.returncode}\n{done.stderr}"
            self.ran.append(label)
            if "id" in step:
                outputs[step["id"]] = dict(
                    line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
                )
            if label in self.after_step:
                self.after_step[label](workspace)

    def action(self, step: dict[str, Any], workspace: Path) -> None:
        uses, given = step["uses"], step.get("with", {})
        if uses.startswith("actions/checkout@"):
            shutil.copytree(self.repository, workspace, dirs_exist_ok=True)
        elif uses.startswith("actions/cache/restore@"):
            key = self.expand(given["key"], {})
            prefix = given.get("restore-keys", "")
            hit = key if key in self.caches else None
            if hit is None:
                hit = next((k for k in reversed(self.cache_order) if k.startswith(prefix)), None)
            if hit is not None:
                shutil.copytree(self.caches[hit], workspace, dirs_exist_ok=True, symlinks=True)
        elif uses.startswith("actions/cache/save@"):
            key = self.expand(given["key"], {})
            saved = self.root / f"cache-{len(self.caches)}"
            saved.mkdir()
            paths = given["path"].split()
            for path in (p for p in paths if not p.startswith("!")):
                source = workspace / path
                if source.is_dir():
                    shutil.copytree(source, saved / path, symlinks=True)
                elif source.is_file():
                    (saved / path).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, saved / path)
            for path in (p[1:] for p in paths if p.startswith("!")):
                shutil.rmtree(saved / path, ignore_errors=True)
            self.caches[key] = saved
            self.cache_order.append(key)
        self.skipped.append(uses)

    def expand(self, text: str, outputs: dict[str, dict[str, str]]) -> str:
        return re.sub(
            r"\$\{\{\s*(.+?)\s*\}\}", lambda m: str(self.value(m.group(1), outputs)), text
        )

    def value(self, name: str, outputs: dict[str, dict[str, str]]) -> object:
        if name.startswith("secrets."):
            return self.secrets.get(name.removeprefix("secrets."), "")
        if name == "github.run_id":
            return self.run_id
        if name == "github.run_attempt":
            return 1
        match = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", name)
        if match:
            return outputs.get(match.group(1), {}).get(match.group(2), "")
        raise AssertionError(f"the test runner does not know {name!r}: keep expressions simple")

    def condition(self, expression: str, outputs: dict[str, dict[str, str]]) -> bool:
        results = []
        for part in expression.split("&&"):
            part = part.strip()
            if part == "always()":
                results.append(True)
                continue
            match = re.fullmatch(r"(\S+)\s*(==|!=)\s*'([^']*)'", part)
            assert match, f"the test runner does not know the condition {part!r}"
            left = str(self.value(match.group(1), outputs))
            results.append((left == match.group(3)) == (match.group(2) == "=="))
        return all(results)

    def output(self, label: str) -> str:
        """stdout + stderr of the last run of the step called `label`."""
        for step, out, err in reversed(self.log):
            if step == label:
                return out + err
        raise AssertionError(f"{label!r} did not run")


@pytest.fixture
def community(tmp_path: Path) -> Iterator[tuple[Path, SidecarServer, Instance, str]]:
    """(the repository, the sidecar with two followers, their server, the private key)."""
    origin = Origin()
    peer = Instance("peer", users=("ann", "bob")).start()
    port = free_port()
    home = tmp_path / "sidecar-machine"
    yesterday = (NOW - timedelta(days=1)).date().isoformat()
    write_site(home, origin.base_url, {"hello": (yesterday, "Hello, neighbours.")})
    config = home / "commsite.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "federation:\n", f"federation:\n  inbox_url: http://127.0.0.1:{port}/ap/inbox\n"
        ),
        encoding="utf-8",
    )
    serve_actor(origin, home, NOW)
    with closing(connect(DataDir.for_site(home).database)) as conn:
        store = FollowerStore(conn)
        store.add(Follower(peer.actor("ann"), peer.inbox("ann"), peer.shared_inbox, None, NOW))
        store.add(Follower(peer.actor("bob"), peer.inbox("bob"), None, None, NOW))
    sidecar = SidecarServer(home, port=port)
    repository = tmp_path / "repository"
    shutil.copytree(home, repository, ignore=shutil.ignore_patterns(".commsite", "public"))
    for ci in ("github", "gitlab"):
        init = _init(tmp_path, ci)
        for rel in (WORKFLOW, GITLAB):
            if (init / rel).exists():
                (repository / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(init / rel, repository / rel)
    key = DataDir.for_site(home).private_key.read_text(encoding="ascii")
    try:
        yield repository, sidecar, peer, key
    finally:
        sidecar.close()
        peer.stop()
        origin.stop()


def _rendered(log: str) -> int:
    """How many pages a build rendered, from its progress summary line."""
    match = re.search(r"^Took .*?rendering ([\d,]+) pages", log, re.M)
    assert match, log
    return int(match.group(1).replace(",", ""))


def test_the_github_workflow_runs_checks_builds_incrementally_and_announces(
    community: tuple[Path, SidecarServer, Instance, str], tmp_path: Path
) -> None:
    repository, _sidecar, peer, key = community
    workflow = _load(repository / WORKFLOW)
    runner = Runner(repository, tmp_path / "runner", {"COMMSITE_PRIVATE_KEY": key})
    key_modes: list[int] = []

    def key_in_place(workspace: Path) -> None:
        pem = workspace / ".commsite" / "private-key.pem"
        key_modes.append(stat.S_IMODE(pem.stat().st_mode))
        assert pem.read_text(encoding="ascii").strip() == key.strip()

    runner.after_step["Put the private key in place"] = key_in_place

    # First push: everything is built; publish records what is there (--backfill-days 0).
    runner.run(workflow)
    assert "No problems found." in runner.output("Check the content")
    first = runner.output("Build")
    assert _rendered(first) > 10
    build = tmp_path / "runner" / "work" / "build"
    assert (build / "public" / ".well-known" / "webfinger").is_file()  # uploaded: hidden files
    assert (build / "public" / ".nojekyll").is_file()
    announce = runner.output("Announce new, edited and removed stories and events")
    assert "2 followers from the sidecar (2 new)." in announce
    assert "First publish: 1 older stories and events were recorded" in announce
    assert peer.received == []
    assert key_modes == [0o600]
    assert not (
        tmp_path / "runner" / "work" / "announce" / ".commsite" / "private-key.pem"
    ).exists()

    # What the caches hold: never the private key, the database in the build cache,
    # or the key that signs compiled templates.
    for key_name, folder in runner.caches.items():
        files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        assert not any(f.endswith("private-key.pem") for f in files), key_name
        assert ".commsite/build-cache-key" not in files
        if key_name.startswith("commsite-build-"):
            assert not any(f.startswith(".commsite/build-cache/compiled-templates/") for f in files)
            assert ".commsite/commsite.sqlite3" not in files and "public/index.html" in files
        else:
            assert files == {".commsite/commsite.sqlite3"}, files

    # Second push, one new story: the restored cache makes the build incremental, and
    # the restored publish record makes the announcement the new story alone.
    write_story(repository, "second", NOW.date().isoformat(), "A second story.")
    runner.run(workflow)
    second = runner.output("Build")
    assert 0 < _rendered(second) < _rendered(first) / 2, (first, second)
    announce = runner.output("Announce new, edited and removed stories and events")
    assert "Create stories/second" in announce and "First publish" not in announce
    assert announce.splitlines()[-1] == "1 activity → 2 inboxes: 2 delivered"
    assert len(peer.received) == 2 and peer.rejected == []
    assert key_modes == [0o600, 0o600]

    # The secret is never printed by any step.
    body = "".join(key.strip().splitlines()[1:-1])
    for label, out, err in runner.log:
        assert body[:40] not in out + err, label

    # Without the secret the site is still deployed, and nothing is announced.
    keyless = Runner(repository, tmp_path / "keyless", {})
    keyless.run(workflow)
    assert "::notice::No COMMSITE_PRIVATE_KEY secret" in keyless.output("Look for the private key")
    assert "Announce new, edited and removed stories and events" in keyless.skipped
    assert "Build" in keyless.ran and "Remove the private key" in keyless.ran


# --- running the GitLab pipeline's script lines ---------------------------------------


def _gitlab_job(pipeline: dict[str, Any], name: str, workspace: Path, env: dict[str, str]) -> str:
    job = pipeline[name]
    out = ""
    for key in ("script", "after_script"):
        if key not in job:
            continue
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", "\n".join(job[key])],
            cwd=workspace,
            env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{name} {key}: {done.stderr}"
        out += done.stdout + done.stderr
    return out


@pytest.mark.parametrize("variable", ["File", "Variable"])
def test_the_gitlab_pipeline_script_lines_run(
    community: tuple[Path, SidecarServer, Instance, str], tmp_path: Path, variable: str
) -> None:
    repository, _sidecar, _peer, key = community
    pipeline = _load(repository / GITLAB)
    workspace = tmp_path / "gitlab"
    shutil.copytree(repository, workspace)  # one workspace: GitLab's caches kept by hand
    # GitLab's "File" variables are a path to the value; plain ones are the value.
    if variable == "File":
        secret = tmp_path / "COMMSITE_PRIVATE_KEY"
        secret.write_text(key, encoding="ascii")
        value = str(secret)
    else:
        value = key
    assert "No problems found." in _gitlab_job(pipeline, "check", workspace, {})
    assert "Built " in _gitlab_job(pipeline, "pages", workspace, {})
    assert (workspace / "public" / ".well-known" / "webfinger").is_file()
    env = {"COMMSITE_PRIVATE_KEY": value}
    first = _gitlab_job(pipeline, "announce", workspace, env)
    assert "2 followers from the sidecar (2 new)." in first
    assert not (workspace / ".commsite" / "private-key.pem").exists()  # after_script
    write_story(workspace, "second", NOW.date().isoformat(), "A second story.")
    again = _gitlab_job(pipeline, "announce", workspace, env)
    assert "Create stories/second" in again and again.splitlines()[-1].endswith("2 delivered")
    assert "BEGIN PRIVATE KEY" not in first + again
    keyless = _gitlab_job(pipeline, "announce", workspace, {"COMMSITE_PRIVATE_KEY": ""})
    assert "No COMMSITE_PRIVATE_KEY variable" in keyless
