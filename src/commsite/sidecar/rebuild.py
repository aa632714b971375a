"""What the rebuild webhook sends: a plain POST, a GitHub repository dispatch, or a
GitLab pipeline trigger, chosen by the webhook's address.

* `https://api.github.com/repos/OWNER/REPO/dispatches` (or GitHub Enterprise
  Server's `https://HOST/api/v3/repos/...`): GitHub's repository dispatch.
  The body is `{"event_type": "commsite-rebuild", "client_payload":
  {"reasons": [...]}}` and the token goes in `Authorization: Bearer`; the
  workflow `commsite init` writes runs on `repository_dispatch` of that type.
* `https://GITLAB/api/v4/projects/ID/trigger/pipeline`: GitLab's pipeline
  trigger. The token and the branch (`sidecar.rebuild_ref`, default "main") go
  in the JSON body, as GitLab wants them; a variable COMMSITE_REBUILD says why.
* Anything else: `{"event": "interactions-changed", "reasons": [...]}`, with
  `Authorization: Bearer TOKEN` when a token is configured.

The token is never in commsite.yaml (a content repository is shared, often
public): `sidecar.rebuild_token_env` names the environment variable that holds
it, read when the sidecar (or `commsite moderate`) starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from commsite.config import SidecarConfig

__all__ = ["EVENT_TYPE", "RebuildHook", "rebuild_hook"]

EVENT_TYPE = "commsite-rebuild"  # the repository_dispatch type the GitHub workflow listens to
GITHUB_API_VERSION = "2022-11-28"
MAX_REASONS = 50

# GitHub's API, or GitHub Enterprise Server's under /api/v3.
_GITHUB = re.compile(r"(/api/v3)?/repos/[^/]+/[^/]+/dispatches/?")
_GITLAB = re.compile(r"/api/v4/projects/[^/]+/trigger/pipeline/?")

Kind = Literal["github", "gitlab", "plain"]


@dataclass(frozen=True, slots=True)
class RebuildHook:
    url: str
    kind: Kind = "plain"
    token: str | None = None
    ref: str = "main"  # the branch a GitLab trigger builds
    token_env: str | None = None  # where the token came from, for messages

    @classmethod
    def at(
        cls, url: str, token: str | None = None, ref: str = "main", token_env: str | None = None
    ) -> RebuildHook:
        """The hook for `url`, its kind read from the address."""
        parts = urlsplit(url)
        kind: Kind = "plain"
        if _GITHUB.fullmatch(parts.path):
            kind = "github"
        elif _GITLAB.fullmatch(parts.path):
            kind = "gitlab"
        return cls(url, kind, token, ref, token_env)

    def request(self, reasons: list[str]) -> tuple[dict[str, str], dict[str, object]]:
        """(headers, JSON body) of one call for `reasons`."""
        reasons = reasons[:MAX_REASONS]
        headers = {"Content-Type": "application/json"}
        if self.kind == "github":
            headers["Accept"] = "application/vnd.github+json"
            headers["X-GitHub-Api-Version"] = GITHUB_API_VERSION
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            return headers, {"event_type": EVENT_TYPE, "client_payload": {"reasons": reasons}}
        if self.kind == "gitlab":
            body: dict[str, object] = {
                "token": self.token or "",
                "ref": self.ref,
                "variables": {"COMMSITE_REBUILD": "; ".join(reasons)[:1000]},
            }
            return headers, body
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers, {"event": "interactions-changed", "reasons": reasons}

    def problem(self) -> str | None:
        """Why calls to this hook will be refused, said before the first one."""
        if self.token_env and not self.token:
            return (
                f"the environment variable {self.token_env} (sidecar.rebuild_token_env) is"
                " not set or empty, so the rebuild webhook is called without a token; set it"
                " where the sidecar runs"
            )
        if self.kind in ("github", "gitlab") and not self.token:
            where = "GitHub" if self.kind == "github" else "GitLab"
            return (
                f"the rebuild webhook is {where}'s, which needs a token: set"
                " sidecar.rebuild_token_env in commsite.yaml to the name of an environment"
                " variable, and put the token in that variable"
            )
        return None


def rebuild_hook(sidecar: SidecarConfig, environ: Mapping[str, str]) -> RebuildHook | None:
    """The configured hook with its token read from the environment; None without one."""
    if not sidecar.rebuild_webhook:
        return None
    token = environ.get(sidecar.rebuild_token_env, "") if sidecar.rebuild_token_env else ""
    return RebuildHook.at(
        sidecar.rebuild_webhook,
        token.strip() or None,
        sidecar.rebuild_ref,
        sidecar.rebuild_token_env,
    )
