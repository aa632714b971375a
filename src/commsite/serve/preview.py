"""`commsite serve`: build, serve, watch, rebuild what changed, reload the browser."""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from commsite import urls
from commsite.activitypub.webfinger import webfinger_answer
from commsite.build.output import DiskFull
from commsite.build.run import Builder, BuildOptions, BuildResult
from commsite.datadir import DataDir
from commsite.errors import CommsiteError, Diagnostic, count_line
from commsite.serve.banner import warning_news, warnings_of
from commsite.serve.server import PreviewServer, PreviewState
from commsite.serve.watch import SiteWatcher

__all__ = ["PortInUse", "Preview", "PreviewOptions"]

# Seconds after a rebuild for the watcher's report before every input file is
# scanned for changes it missed (the reloading tabs are served first).
CHECK_AFTER = 0.5


class PortInUse(CommsiteError):
    pass


@dataclass(frozen=True, slots=True)
class PreviewOptions:
    root: Path
    host: str = "127.0.0.1"
    port: int = 8000
    drafts: bool = True  # drafts and future-dated stories are shown (and marked) by default


class Preview:
    """A running preview: server + watcher + incremental builder."""

    def __init__(self, options: PreviewOptions, *, echo: Callable[[str], None] = print) -> None:
        self.options = options
        self.echo = echo
        root = options.root.resolve()
        self.output = DataDir.for_site(root).path / "preview"
        title, federation, live_url = _site_facts(root)
        self.state = PreviewState(
            self.output, site_title=title, federation=federation, live_url=live_url
        )
        # Bind first, so a busy port is reported before a long build.
        try:
            self.server = PreviewServer(
                (options.host, options.port), self.state, webfinger=self._webfinger
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {options.port} on {options.host} is already in use; "
                    f"try `commsite serve --port {options.port + 1}` or stop the other server"
                ) from exc
            raise
        host, port = self.server.server_address[:2]
        self.url = f"http://{_url_host(str(host))}:{port}/"
        self.state.preview_url = self.url
        self.builder = Builder(
            BuildOptions(
                root=root,
                output=self.output,
                drafts=options.drafts,
                future=options.drafts,
                base_url=self.url,
                owned_output=True,  # the preview folder is the builder's alone
            )
        )
        self.watcher = SiteWatcher(root, self._rebuild)
        self._build_lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._check: threading.Timer | None = None  # the scan after a trusted rebuild
        self._warnings: tuple[Diagnostic, ...] = ()  # the warnings last printed
        self._report_lock = threading.Lock()  # (builds report after releasing theirs)

    # -- building -----------------------------------------------------------------

    def build_all(self) -> BuildResult:
        return self._run(None)

    def warm_up(self) -> None:
        """When the first build found nothing changed (so it loaded nothing), load
        and plan the site all the same, in the background, so that the first save
        is about as quick as the ones after it (10,000 stories: 1.39 s without
        this, 0.34 s with it; 0.25 s for the saves after).
        Open pages are not held up meanwhile: this build writes only what changed
        since the first one, which is almost always nothing, and says so if not."""
        with self._build_lock:
            if self.builder.warm:
                return
            result = self.builder.build(full=True)
            if not (result.ok and (result.written or result.removed)):
                return
            self._report_warnings(result.diagnostics)
            with self.state.lock.exclusive():
                self.state.publish(
                    failed=False,
                    diagnostics=result.diagnostics,
                    changed=(*result.written, *result.removed),
                )
        self.echo(f"[{time.strftime('%H:%M:%S')}] caught up: wrote {len(result.written)}")

    def _rebuild(self, paths: set[Path]) -> None:
        """Rebuild for what the watcher reported, trusting it for speed (no scan
        of every input file first); then, once the tabs have had a moment to
        reload, scan all the same and build again for anything it missed."""
        self._run(paths, trusted=True)
        self._schedule_check()

    def _schedule_check(self) -> None:
        with self._check_lock:
            if self._check is not None:
                self._check.cancel()
            self._check = threading.Timer(CHECK_AFTER, self._check_missed)
            self._check.daemon = True
            self._check.start()

    def _check_missed(self) -> None:
        with self._build_lock:
            missed = self.builder.missed_changes()
        if missed:
            names = ", ".join(sorted(p.name for p in missed)[:5])
            self.echo(f"the watcher did not report {len(missed)} change(s) ({names}); rebuilding")
            self._run(set(missed))

    def _run(self, paths: set[Path] | None, *, trusted: bool = False) -> BuildResult:
        with self._build_lock:
            started = time.perf_counter()
            if paths is None or any(p.name == "commsite.yaml" for p in paths):
                # Its title and base_url (the preview mark) may have changed.
                title, _, live_url = _site_facts(self.builder.options.root)
                self.state.site_title, self.state.live_url = title, live_url
            with self.state.lock.exclusive():
                result = self._build(paths, trusted=trusted)
                # Inside the lock: a page and the build number it is stamped with
                # always belong together. Open pages are told which files changed
                # (so the others need not reload); after a full build, that all may have.
                self.state.publish(
                    failed=not result.ok,
                    diagnostics=result.diagnostics,
                    changed=None if paths is None else (*result.written, *result.removed),
                )
            # A theme used from outside the site is watched from its first build on,
            # and an input folder made since the last build (interactions/) from now.
            self.watcher.watch_outside(self.builder.outside_dirs())
            self.watcher.watch_inputs()
        seconds = time.perf_counter() - started
        if result.ok:
            what = ", ".join(sorted(p.name for p in paths)) if paths else "full build"
            self.echo(
                f"[{time.strftime('%H:%M:%S')}] {what}: rendered {len(result.rendered)}, "
                f"wrote {len(result.written)} in {seconds:.2f} s"
            )
            self._report_warnings(result.diagnostics)
        else:
            for d in result.diagnostics:
                self.echo(d.format())
            self.echo(f"build failed ({count_line(result.diagnostics)}); the page shows the errors")
            with self._report_lock:
                self._warnings = warnings_of(result.diagnostics)  # printed just now
        return result

    def _build(self, paths: set[Path] | None, *, trusted: bool) -> BuildResult:
        """The builder's build; a full disk is a failed build the page shows."""
        try:
            return self.builder.build(paths, trusted=trusted)
        except DiskFull as exc:
            where = exc.path or self.output
            try:
                shown = where.relative_to(self.options.root.resolve()).as_posix()
            except ValueError:
                shown = str(where)
            problem = Diagnostic(
                shown, None, "no space left on device", hint="free some room and save again"
            )
            return BuildResult(False, (problem,), (), (), (), 0, 0.0, self.output)

    def _report_warnings(self, diagnostics: tuple[Diagnostic, ...]) -> None:
        """Print the build's warnings when they differ from the ones printed last
        (as `commsite build` would print them), and say so when they are gone."""
        warnings = warnings_of(diagnostics)
        with self._report_lock:
            for line in warning_news(self._warnings, warnings):
                self.echo(line)
            self._warnings = warnings

    # -- serving --------------------------------------------------------------------

    def _start_watching(self) -> None:
        self.watcher.start()
        threading.Thread(target=self.warm_up, name="warm-up", daemon=True).start()

    def serve_forever(self) -> None:
        self._start_watching()
        try:
            self.server.serve_forever(poll_interval=0.2)
        finally:
            self.close()

    def start_in_thread(self) -> threading.Thread:
        self._start_watching()
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.watcher.stop()
        with self._check_lock:
            if self._check is not None:
                self._check.cancel()
        if not self.server.stopping.is_set():
            self.server.stopping.set()
        self.server.server_close()

    def _webfinger(self, resource: str) -> bytes | None:
        """Answer WebFinger from the built JRD: its subject, aliases or actor URL, any case."""
        jrd_file = self.output / urls.WEBFINGER
        if not jrd_file.is_file():
            return None
        return webfinger_answer(jrd_file.read_bytes(), resource)


def _site_facts(root: Path) -> tuple[str, bool, str | None]:
    """The title in commsite.yaml, for the error page's tab (the folder's name
    until it reads), whether federation is on (which rows of the served files
    table apply), and its base_url (where the site will live; None until it reads)."""
    from commsite.content.config_loader import load_config

    config, _ = load_config(root)
    if config is None:
        return root.name, True, None
    return config.title, config.federation.enabled, config.base_url


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
