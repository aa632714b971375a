"""Assembling the sidecar from a site directory, and running it.

`open_sidecar(root)` builds every part (store, fetcher, key cache, admission,
processor, worker, WSGI app) from the site's commsite.yaml; `serve` runs it
under waitress; `wsgi_app(root)` is the factory for other WSGI servers::

    gunicorn -w 4 -b 127.0.0.1:8787 'commsite.sidecar.server:wsgi_app("/srv/community")'
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commsite import urls
from commsite.activitypub.signatures import PublicKey
from commsite.config import SiteConfig
from commsite.content.config_loader import load_config
from commsite.content.loader import load_site
from commsite.content.model import Site
from commsite.database import store_target
from commsite.datadir import DataDir
from commsite.errors import CommsiteError, Diagnostic
from commsite.federation.fetch import Fetcher, user_agent
from commsite.federation.keys import key_id, load_private_key, public_key_pem
from commsite.sidecar.admission import Admission
from commsite.sidecar.app import SidecarApp
from commsite.sidecar.fetchslots import FetchSlots
from commsite.sidecar.keycache import KeyCache
from commsite.sidecar.processing import Processor
from commsite.sidecar.profiles import Profiles
from commsite.sidecar.ratelimit import Limiter, RateLimiter
from commsite.sidecar.ratelimit_store import StoredRateLimiter
from commsite.sidecar.rebuild import rebuild_hook
from commsite.sidecar.site_files import SiteFiles
from commsite.sidecar.store import Store
from commsite.sidecar.targets import Targets
from commsite.sidecar.worker import RebuildNotifier, Worker

if TYPE_CHECKING:
    from commsite.sidecar.connections import ConnectionLimits

__all__ = [
    "Options",
    "PortInUse",
    "Sidecar",
    "listening_socket",
    "load_config_or_fail",
    "open_sidecar",
    "run",
    "serve",
    "waitress_server",
    "wsgi_app",
]

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Options:
    serve_site: bool = False
    output: Path | None = None  # the built site (default ROOT/public)
    trust_forwarded_host: bool = False
    rate: float = 10.0  # requests a second per sending domain
    burst: int = 100
    fetch_timeout: float = 10.0
    # The server's worker threads (waitress --threads; gunicorn's per process): at most
    # half of them fetch keys at once, so deliveries whose key is cached always find one.
    threads: int = 8
    key_fetch_timeout: float = 5.0  # a whole key fetch, however slowly the remote answers
    key_fetches_per_host: int = 2  # key fetches in flight to one remote host
    key_refresh_after: float = 30.0  # seconds before a cached key may be refetched
    key_fetch_rate: float = 5.0  # new keys fetched a second, all senders together
    key_fetch_burst: int = 20
    worker_poll: float = 5.0
    # Seconds between the idle worker's looks for work other processes queued
    # (--worker-only, gunicorn's other processes, `commsite publish`): Worker.tick.
    worker_tick: float = 0.5
    # The rate limits in the database (ratelimit_store) even on SQLite: several
    # processes answer (gunicorn workers), so a bucket per process would let each
    # sender in once per process. Always so on PostgreSQL.
    shared_limits: bool = False
    # Seconds an activity about a story or event of ours not known yet is retried
    # (the site re-read) before it is filed as final: see sidecar/worker.py.
    target_patience: float = 900.0


@dataclass
class Sidecar:
    root: Path
    config: SiteConfig
    store: Store
    app: SidecarApp
    worker: Worker
    threads: int = 8  # what admission's key-fetch slots were sized for

    def start(self) -> None:
        self.worker.start()

    def close(self) -> None:
        self.worker.stop()
        self.store.close()


class PortInUse(CommsiteError):
    """Another server already listens on the sidecar's address."""


def load_config_or_fail(root: Path) -> SiteConfig:
    config, diagnostics = load_config(root)
    if config is None:
        raise CommsiteError(
            "\n".join(d.format() for d in diagnostics) or f"cannot read {root}/commsite.yaml"
        )
    return config


def _site_loader(root: Path, clock: Callable[[], datetime]) -> Callable[[], Site | None]:
    def load() -> Site | None:
        site, diagnostics = load_site(root, now=clock())
        errors: list[Diagnostic] = [d for d in diagnostics if d.is_error]
        for d in errors[:5]:
            log.warning("content: %s", d.format())
        return site

    return load


def open_sidecar(
    root: Path, options: Options = Options(), *, clock: Callable[[], datetime] = _now
) -> Sidecar:
    """Every part of the sidecar for the site at `root` (not started)."""
    root = root.resolve()
    config = load_config_or_fail(root)
    data_dir = DataDir.for_site(root, config.sidecar.data_dir)
    data_dir.ensure()
    private_key = load_private_key(root, data_dir=data_dir)
    signing_key = (key_id(config), private_key)
    fetcher = Fetcher(
        allow_private=config.federation.allow_private_addresses,
        timeout=options.fetch_timeout,
        signer=signing_key,
        user_agent=user_agent(config.base_url),
        clock=clock,
    )
    store = Store(store_target(data_dir, config.sidecar))
    keys = KeyCache(
        store,
        fetcher,
        clock,
        timedelta(seconds=options.key_refresh_after),
        timeout=options.key_fetch_timeout,
        slots=FetchSlots(
            total=max(1, options.threads // 2),
            per_host=options.key_fetches_per_host,
            retry_after=options.key_fetch_timeout,
        ),
    )
    profiles = Profiles(store, fetcher, clock)
    targets = Targets(_site_loader(root, clock), config=config)
    processor = Processor(
        config=config, store=store, profiles=profiles, targets=targets, clock=clock
    )
    hook = rebuild_hook(config.sidecar, os.environ)
    if hook is not None and hook.problem():
        log.warning("%s", hook.problem())
    notifier = RebuildNotifier(hook)
    worker = Worker(
        store=store,
        processor=processor,
        fetcher=fetcher,
        signing_key=signing_key,
        clock=clock,
        notifier=notifier,
        poll=options.worker_poll,
        tick=options.worker_tick,
        patience=timedelta(seconds=options.target_patience),
        polls=processor.rsvps.flush_polls,
    )
    limiter, fetch_limiter, monotonic = _limiters(store, options)
    admission = Admission(
        config=config,
        store=store,
        keys=keys,
        limiter=limiter,
        fetch_limiter=fetch_limiter,
        clock=clock,
        on_stored=worker.wake,
        monotonic=monotonic,
    )
    site_files = None
    if options.serve_site:
        site_files = SiteFiles(
            options.output or root / "public",
            config.base_path,
            federation=config.federation.enabled,
        )
    app = SidecarApp(
        config=config,
        store=store,
        admission=admission,
        site_files=site_files,
        trust_forwarded_host=options.trust_forwarded_host,
        own_key=PublicKey(key_id(config), config.url(urls.ACTOR), public_key_pem(private_key)),
    )
    return Sidecar(
        root=root, config=config, store=store, app=app, worker=worker, threads=options.threads
    )


def _limiters(store: Store, options: Options) -> tuple[Limiter, Limiter, Callable[[], float]]:
    """The rate limits: in this process when it answers alone (`commsite sidecar` on
    SQLite); in the database when several processes answer (gunicorn workers, or
    PostgreSQL, where processes on several hosts do), on the clock they share."""
    if store.conn.dialect == "postgresql" or options.shared_limits:
        return (
            StoredRateLimiter(store, options.rate, options.burst),
            StoredRateLimiter(store, options.key_fetch_rate, options.key_fetch_burst),
            time.time,
        )
    return (
        RateLimiter(options.rate, options.burst),
        RateLimiter(options.key_fetch_rate, options.key_fetch_burst),
        time.monotonic,
    )


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port), not yet listening; PortInUse when taken.

    Bound here rather than by waitress so that a busy port fails before
    waitress starts its worker threads and wake-up pipe (which it would leak)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, 0, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise CommsiteError(f"cannot listen on {host}: {exc.strerror}") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"port {port} on {host} is already in use; "
                f"try `commsite sidecar --port {port + 1}` or stop the other server"
            ) from exc
        raise
    return sock


def waitress_server(
    sidecar: Sidecar, host: str, port: int, *, limits: ConnectionLimits | None = None
) -> Any:
    """A waitress server for the app with `sidecar.threads` threads (port 0: any free
    port; see `.effective_port`). PortInUse when the port is taken.

    Slow clients meet deadlines and make room when it is full (sidecar/connections.py).
    waitress drops X-Forwarded-* headers unless told which proxy to trust;
    whether X-Forwarded-Host counts is the app's decision (--trust-forwarded-host),
    so they are passed through to it.
    """
    from commsite.sidecar.connections import ConnectionLimits, guarded_server  # waitress: lazily

    return guarded_server(
        sidecar.app,
        listening_socket(host, port),
        threads=sidecar.threads,
        limits=limits or ConnectionLimits(),
        ident="commsite",
        clear_untrusted_proxy_headers=False,
    )


def run(sidecar: Sidecar, server: Any) -> None:
    """Serve with the worker alongside until interrupted (KeyboardInterrupt);
    then stop accepting, close waitress, stop the worker and close the store."""
    sidecar.start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        sidecar.close()


def run_worker(sidecar: Sidecar) -> None:
    """Only the worker, no HTTP, until interrupted (`commsite sidecar --worker-only`):
    it claims what any inbox process stored in the shared database."""
    sidecar.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sidecar.close()


def serve(sidecar: Sidecar, host: str, port: int) -> None:
    """Bind, then run under waitress until interrupted, with the worker alongside."""
    run(sidecar, waitress_server(sidecar, host, port))


def wsgi_app(root: str, **options: object) -> SidecarApp:
    """WSGI factory for gunicorn & co.: one sidecar (and worker thread) per process;
    the rate limits are shared by the processes, through the database."""
    options.setdefault("shared_limits", True)
    sidecar = open_sidecar(Path(root), Options(**options))  # type: ignore[arg-type]
    sidecar.start()
    return sidecar.app
