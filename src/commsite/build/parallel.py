"""Running a function over many items, in worker processes when it pays.

Workers are forked, so they start with the parent's memory (the Site, the page
specs, compiled templates) and only indices and small results cross the pipe.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import threading
import traceback
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Generic, TypeVar

__all__ = ["Background", "available_cpus", "map_in_processes", "submit"]

T = TypeVar("T")
R = TypeVar("R")

_TASK: tuple[Callable[[object], object], Sequence[object]] | None = None


def can_fork() -> bool:
    """Forking is available and safe: no other thread could hold a lock the child
    would inherit locked (`commsite serve` runs its builds beside server threads)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _run_chunk(bounds: tuple[int, int]) -> list[object]:
    assert _TASK is not None
    fn, items = _TASK
    return [fn(items[i]) for i in range(*bounds)]


def map_in_processes(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    jobs: int,
    progress: Callable[[int, int], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[R]:
    """[fn(x) for x in items], in order; across `jobs` forked processes when jobs > 1
    (and forking is safe, see `can_fork`). `meanwhile` is called in this process
    once, while the workers run (after the items, when there are none).

    An exception raised by `fn` propagates (the pool is shut down first).
    """
    total = len(items)
    if progress:
        progress(0, total)  # the step starts now (commsite.progress times it from here)
    if jobs <= 1 or total < 2 or not can_fork():
        results: list[R] = []
        step = max(1, total // 100)
        for i, item in enumerate(items):
            results.append(fn(item))
            if progress and (i + 1) % step == 0:
                progress(i + 1, total)
        if progress:
            progress(total, total)
        if meanwhile is not None:
            meanwhile()
        return results

    global _TASK
    _TASK = (fn, items)  # type: ignore[assignment]
    try:
        # Small chunks balance the load; not so small that the pipe dominates.
        size = max(1, min(100, total // (jobs * 8)))
        chunks = [(start, min(start + size, total)) for start in range(0, total, size)]
        out: list[list[R] | None] = [None] * len(chunks)
        done = 0
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=context) as pool:
            futures: dict[Future[list[object]], int] = {
                pool.submit(_run_chunk, bounds): n for n, bounds in enumerate(chunks)
            }
            pending = set(futures)
            try:
                if meanwhile is not None:
                    meanwhile()
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        n = futures[future]
                        out[n] = future.result()  # type: ignore[assignment]
                        start, end = chunks[n]
                        done += end - start
                    if progress:
                        progress(done, total)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        return [result for chunk in out for result in chunk]  # type: ignore[union-attr]
    finally:
        _TASK = None


class Background(Generic[R]):
    """The result of a call running in a forked child (see `submit`)."""

    def __init__(self, pid: int, reader: int) -> None:
        self._pid = pid
        self._reader = reader
        # Dropped without a result (the caller failed first): stop the child, whose
        # work nobody will read, and reap it.
        self._reap = weakref.finalize(self, _reap, pid, reader)

    def result(self) -> R:
        self._reap.detach()
        with os.fdopen(self._reader, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        if not data:
            raise RuntimeError(f"a build worker (pid {self._pid}) died: wait status {status}")
        ok, value = pickle.loads(data)
        if ok:
            return value  # type: ignore[no-any-return]
        raise value


def _reap(pid: int, reader: int) -> None:
    os.close(reader)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)  # (it has nothing to clean up: it ends in os._exit)
    os.waitpid(pid, 0)


def _child(fn: Callable[..., object], args: tuple[object, ...], writer: int) -> None:
    """In the forked child: run fn, send (ok, result or exception) down the pipe, exit
    without running the parent's exit handlers."""
    code = 0
    try:
        try:
            payload = pickle.dumps((True, fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # the parent re-raises it
            try:
                payload = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                detail = "".join(traceback.format_exception(exc))
                payload = pickle.dumps((False, RuntimeError(detail)))
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(payload)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def submit(fn: Callable[..., R], *args: object) -> Background[R] | None:
    """Start fn(*args) in a forked process (it sees this process's memory; only the
    result is pickled back). None when forking is not possible or there is one CPU:
    call fn yourself then.

    A plain fork and a pipe, no executor: an executor's management thread would make
    the next `submit` (and `map_in_processes`) see a second thread and refuse to fork."""
    if available_cpus() < 2 or not can_fork():
        return None
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child exits in _child)
        os.close(reader)
        _child(fn, args, writer)
    os.close(writer)
    return Background(pid, reader)
