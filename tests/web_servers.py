"""Real nginx and Caddy on loopback, for the tests of the generated deploy configs
and of the documented blocks (Debian packages nginx-light and caddy).

Each runs in the foreground as a child process of the test, with its files in
the test's tmp_path, and is stopped (by its own pid) when the block ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from needs import require

MIME_TYPES = Path("/etc/nginx/mime.types")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes], log: Callable[[], str]) -> None:
    """Until something listens on `port`; fails with the server's log if it exits."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited: {log()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"server did not listen on {port}: {log()}")


def nginx_binary() -> str:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    require(nginx is not None, "nginx is not installed (Debian package nginx-light)")
    assert nginx is not None
    return nginx


@contextmanager
def running_nginx(tmp_path: Path, port: int, server: str) -> Iterator[None]:
    """nginx listening on 127.0.0.1:`port` with `server` inside its server block
    (and the system's mime.types, as a packaged nginx has)."""
    nginx = nginx_binary()
    conf = tmp_path / "nginx.conf"
    temp = tmp_path / "temp"
    temp.mkdir(exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""
    mime = f"include {MIME_TYPES};" if MIME_TYPES.is_file() else ""
    conf.write_text(
        f"""{user}
daemon off;
master_process off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    {mime}
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        {server}
    }}
}}
"""
    )
    log = tmp_path / "error.log"
    process = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(tmp_path), "-e", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port, process, lambda: log.read_text(errors="replace") if log.exists() else "")
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def running_caddy(tmp_path: Path, port: int, site: str) -> Iterator[None]:
    """Caddy serving http://127.0.0.1:`port` with `site` inside its site block."""
    caddy = shutil.which("caddy")
    require(caddy is not None, "caddy is not installed (Debian package caddy)")
    assert caddy is not None
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(
        f"""{{
    admin off
    auto_https off
}}
http://127.0.0.1:{port} {{
    bind 127.0.0.1
    {site}
}}
"""
    )
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    log = tmp_path / "caddy.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [caddy, "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_for(port, process, lambda: log.read_text(errors="replace"))
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
