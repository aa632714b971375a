"""docs/sidecar.md's nginx block is the one the build writes, and it works.

Issue 15 point 16: the docs' hand-written block passed `proxy_set_header Host
$host;`, which drops a port other than 80 or 443, so on a site served on such a
port every signature (which covers Host, port included) failed; the generated
`_deploy/nginx.conf` passed `$http_host`. Now the docs show the generated
block verbatim, and this runs that block in real nginx on a non-default port
and delivers an activity signed by an independent implementation (apsig)
through it to the real sidecar.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commsite.site_files.deploy import nginx_sidecar_locations
from handmade_site import site
from sidecar_peer import PUBLIC, Remote, running, write_site
from web_servers import free_port, running_nginx

DOCS = Path(__file__).resolve().parents[1] / "docs" / "sidecar.md"
DOCUMENTED_UPSTREAM = "127.0.0.1:8787"


def documented_block() -> str:
    section = DOCS.read_text(encoding="utf-8").split("## Behind nginx or Caddy", 1)[1]
    return section.split("```nginx\n", 1)[1].split("```", 1)[0]


def test_the_documented_block_is_the_generated_one() -> None:
    assert documented_block() == nginx_sidecar_locations(site(base_url="https://example.org/"))
    assert DOCUMENTED_UPSTREAM in documented_block()


@pytest.mark.parametrize(
    ("host", "accepted"),
    [
        ("$http_host", True),  # as documented: the Host the sender signed, port included
        ("$host", False),  # the old docs' block: the port is gone, the signature fails
    ],
)
def test_a_signed_delivery_through_the_documented_block_on_a_non_default_port(
    tmp_path: Path, host: str, accepted: bool
) -> None:
    block = documented_block()
    assert block.count("proxy_set_header Host $http_host;") == 3
    block = block.replace("proxy_set_header Host $http_host;", f"proxy_set_header Host {host};")
    port = free_port()  # nginx's, and the site's: http://127.0.0.1:PORT/
    root = tmp_path / "site"
    write_site(root, f"http://127.0.0.1:{port}/")
    remote = Remote(users=("alice",)).start()
    try:
        with running(root) as sidecar:
            # The documented block as it stands, pointed at this test's sidecar.
            served = block.replace(DOCUMENTED_UPSTREAM, f"127.0.0.1:{sidecar.port}")
            (tmp_path / "nginx").mkdir()
            with running_nginx(tmp_path / "nginx", port, served):
                actor = remote.actor("alice")
                note = {"id": actor + "/s/1", "type": "Note", "attributedTo": actor, "to": [PUBLIC]}
                activity = {"id": actor + "/s/1/a", "type": "Create", "actor": actor}
                url = f"http://127.0.0.1:{port}/inbox"  # the sender sends Host: 127.0.0.1:PORT
                reply = remote.deliver(url, {**activity, "object": note})
        if accepted:
            assert reply.status == 202, reply.body
        else:  # refused by the sidecar (401: the signature does not verify)
            assert 400 <= reply.status < 500 and "error" in json.loads(reply.body), reply.body
    finally:
        remote.stop()
