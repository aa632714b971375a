"""`commsite check --external`: outside links checked over HTTP.

Each address is asked once (HEAD, then GET when the server refuses HEAD with
405 or 501), with a short timeout, at most `workers` requests at once and
`per_host` to one host. Redirects are followed by hand, http(s) only, at most
MAX_REDIRECTS. A 404 or 410 is a broken link (a warning, an error with
--strict); a timeout, a refused connection or any other answer that says
nothing about the page (403, 429, 5xx) is a note, "could not check", that
never fails the run.

Answers are kept between runs in the data directory (LINK_CACHE, JSON): an
answer from the server for MAX_AGE seconds; a timeout or connection error is
asked again on the next run.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from commsite import __version__
from commsite.errors import Diagnostic, Severity
from commsite.links.check import ExternalLink
from commsite.progress import Progress

__all__ = [
    "LINK_CACHE",
    "Answer",
    "ExternalReport",
    "Unchecked",
    "check_external",
]

LINK_CACHE = "link-check.json"  # in the data directory
MAX_AGE = 24 * 3600.0
TIMEOUT = 5.0
WORKERS = 8
PER_HOST = 2
MAX_REDIRECTS = 5
_BROKEN = (404, 410)
STAGE = "checking links"  # the progress stage (commsite.progress)


@dataclass(frozen=True, slots=True)
class Answer:
    """What asking one address gave: a final status, or why there is none."""

    status: int | None
    error: str | None = None  # "timed out after 5 s", "connection refused" ...
    checked: float = 0.0  # time.time() of the asking

    @property
    def keep(self) -> bool:
        """Whether the next run may reuse it (servers' answers, not failures)."""
        return self.status is not None


@dataclass(frozen=True, slots=True)
class Unchecked:
    """A link whose address could not be checked: a note, never a failure."""

    path: str
    line: int
    url: str
    why: str

    def format(self) -> str:
        return f"{self.path}:{self.line}: note: could not check '{self.url}' ({self.why})"


@dataclass(frozen=True, slots=True)
class ExternalReport:
    broken: tuple[Diagnostic, ...]
    unchecked: tuple[Unchecked, ...]


def check_external(
    links: Sequence[ExternalLink],
    cache_file: Path | None,
    *,
    timeout: float = TIMEOUT,
    workers: int = WORKERS,
    per_host: int = PER_HOST,
    now: Callable[[], float] = time.time,
    max_age: float = MAX_AGE,
    progress: Progress | None = None,
) -> ExternalReport:
    """Ask every distinct address of `links` (those the cache does not answer)
    and report the broken ones and the ones that could not be checked.
    `progress("checking links", done, total)` follows the asking (commsite.progress)."""
    cached = _read_cache(cache_file, now(), max_age)
    wanted = sorted({link.url for link in links} - cached.keys())
    answers = dict(cached)
    answers.update(
        _ask_all(
            wanted, timeout=timeout, workers=workers, per_host=per_host, now=now, progress=progress
        )
    )
    if cache_file is not None:
        _write_cache(cache_file, {url: a for url, a in answers.items() if a.keep})
    broken: list[Diagnostic] = []
    unchecked: list[Unchecked] = []
    for link in links:
        answer = answers[link.url]
        if answer.status in _BROKEN:
            broken.append(
                Diagnostic(
                    link.path,
                    link.line,
                    f"broken link '{link.url}' (the server answered {answer.status})",
                    Severity.WARNING,
                )
            )
        elif answer.error is not None:
            unchecked.append(Unchecked(link.path, link.line, link.url, answer.error))
        elif answer.status is not None and answer.status >= 400:
            why = f"the server answered {answer.status}"
            unchecked.append(Unchecked(link.path, link.line, link.url, why))
    return ExternalReport(tuple(broken), tuple(unchecked))


def _ask_all(
    wanted: list[str],
    *,
    timeout: float,
    workers: int,
    per_host: int,
    now: Callable[[], float],
    progress: Progress | None = None,
) -> dict[str, Answer]:
    if not wanted:
        return {}
    hosts: dict[str, threading.BoundedSemaphore] = {}
    for url in wanted:
        hosts.setdefault(_host(url), threading.BoundedSemaphore(per_host))
    # Take the hosts in turn, so one host's many links do not hold every worker.
    queues: dict[str, list[str]] = {}
    for url in wanted:
        queues.setdefault(_host(url), []).append(url)
    ordered: list[str] = []
    while queues:
        for host in list(queues):
            ordered.append(queues[host].pop(0))
            if not queues[host]:
                del queues[host]

    def one(url: str) -> tuple[str, Answer]:
        with hosts[_host(url)]:
            return url, _ask(url, timeout, now)

    answers: dict[str, Answer] = {}
    if progress is not None:
        progress(STAGE, 0, len(ordered))
    with ThreadPoolExecutor(max_workers=min(workers, len(ordered))) as pool:
        for done in as_completed([pool.submit(one, url) for url in ordered]):
            url, answer = done.result()
            answers[url] = answer
            if progress is not None:
                progress(STAGE, len(answers), len(ordered))
    return answers


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _ask(url: str, timeout: float, now: Callable[[], float]) -> Answer:
    """The final status of `url`, following http(s) redirects by hand."""
    checked = now()
    headers = {"User-Agent": f"commsite/{__version__} (link check)"}
    seconds = f"{timeout:g} s"
    current = url
    try:
        with requests.Session() as session:  # (one each: a Session is not thread-safe)
            for _ in range(MAX_REDIRECTS + 1):
                response = session.head(
                    current, timeout=timeout, allow_redirects=False, headers=headers
                )
                response.close()
                if response.status_code in (405, 501):
                    response = session.get(
                        current,
                        timeout=timeout,
                        allow_redirects=False,
                        headers=headers,
                        stream=True,
                    )
                    response.close()
                location = response.headers.get("Location")
                if not (response.is_redirect and location):
                    return Answer(response.status_code, checked=checked)
                current = urljoin(current, location)
                if urlsplit(current).scheme.lower() not in ("http", "https"):
                    return Answer(None, "it redirects to a non-http address", checked)
            return Answer(None, f"more than {MAX_REDIRECTS} redirects", checked)
    except requests.Timeout:
        return Answer(None, f"no answer within {seconds}", checked)
    except requests.ConnectionError as exc:
        return Answer(None, f"cannot connect: {_reason(exc)}", checked)
    except requests.RequestException as exc:
        return Answer(None, f"the request failed: {_reason(exc)}", checked)


def _reason(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text.rsplit(": ", 1)[-1].strip(" ')\"")[:120] or type(exc).__name__


def _read_cache(file: Path | None, now: float, max_age: float) -> dict[str, Answer]:
    """The cached answers still fresh; nothing when the file is missing or damaged."""
    if file is None:
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found: dict[str, Answer] = {}
    entries = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return {}
    for url, entry in entries.items():
        if not isinstance(entry, dict):
            continue
        status, checked = entry.get("status"), entry.get("checked")
        if (
            isinstance(status, int)
            and isinstance(checked, (int, float))
            and 0 <= now - checked < max_age
        ):
            found[url] = Answer(status, None, float(checked))
    return found


def _write_cache(file: Path, answers: dict[str, Answer]) -> None:
    """Write the answers (atomically); a data directory we cannot write is no failure."""
    data = {
        "version": 1,
        "answers": {
            url: {"status": a.status, "checked": a.checked} for url, a in sorted(answers.items())
        },
    }
    with contextlib.suppress(OSError):
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_name(file.name + ".tmp")
        partial.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        os.replace(partial, file)
