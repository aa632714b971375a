"""Running a function over many items, or one call in the background, in worker
processes when it pays.

Workers are forked (the "fork" start method), so they start with the parent's
memory (the Site, the page specs, compiled templates): the task travels in the
process's start arguments, never pickled, and only chunk bounds and results
cross a pipe. A map runs in a `concurrent.futures.ProcessPoolExecutor` whose
initializer gives each worker the function and the items; a background call is
one `multiprocessing` process and a pipe, because an executor's manager thread
would still run when the next pool forks, and forking beside another thread is
what `can_fork` refuses (and Python 3.12 warns about).

Workers turn the cycle collector off: they live for one step, and a collection
would walk (and copy, page by page) the memory they share with the parent.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import traceback
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

__all__ = ["Background", "available_cpus", "can_fork", "map_in_processes", "submit"]

T = TypeVar("T")
R = TypeVar("R")


def can_fork() -> bool:
    """Forking is available and safe: no other thread could hold a lock the child
    would inherit locked (`commsite serve` runs its builds beside server threads)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class _Worker:
    """What a map's worker process runs, set by `_start_worker` in that process
    (never in the parent, which passes it as the pool's initargs)."""

    fn: Callable[[Any], Any] | None = None
    items: Sequence[Any] = ()


def _start_worker(fn: Callable[[Any], Any], items: Sequence[Any]) -> None:
    gc.disable()  # (see the module's docstring)
    _Worker.fn, _Worker.items = fn, items


def _run_chunk(bounds: tuple[int, int]) -> list[object]:
    fn, items = _Worker.fn, _Worker.items
    assert fn is not None
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

    # Small chunks balance the load; not so small that the pipe dominates.
    size = max(1, min(100, total // (jobs * 8)))
    chunks = [(start, min(start + size, total)) for start in range(0, total, size)]
    out: list[list[R] | None] = [None] * len(chunks)
    done = 0
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(chunks)),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(fn, items),
    ) as pool:
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


class Background(Generic[R]):
    """The result of a call running in a forked process (see `submit`)."""

    def __init__(self, process: multiprocessing.process.BaseProcess, pipe: Connection) -> None:
        self._process = process
        self._pipe = pipe
        # Dropped without a result (the caller failed first): stop the child, whose
        # work nobody will read, and reap it.
        self._stop = weakref.finalize(self, _stop, process, pipe)

    @property
    def pid(self) -> int:
        pid = self._process.pid
        assert pid is not None
        return pid

    def result(self) -> R:
        self._stop.detach()
        try:
            ok, value = self._pipe.recv()
        except EOFError:
            self._process.join()
            code = self._process.exitcode
            raise RuntimeError(f"a build worker (pid {self.pid}) died: exit code {code}") from None
        finally:
            self._pipe.close()
        self._process.join()
        if ok:
            return value  # type: ignore[no-any-return]
        raise value


def _stop(process: multiprocessing.process.BaseProcess, pipe: Connection) -> None:
    pipe.close()
    process.kill()  # (it has nothing to clean up: a forked child ends in os._exit)
    process.join()


def _child(fn: Callable[..., object], args: tuple[object, ...], pipe: Connection) -> None:
    """In the forked child: run fn, send (ok, result or exception) down the pipe."""
    gc.disable()  # (see the module's docstring)
    try:
        payload: tuple[bool, object] = (True, fn(*args))
    except BaseException as exc:  # the parent re-raises it
        payload = (False, exc)
    try:
        pipe.send(payload)
    except Exception as exc:  # (an exception or a result that does not pickle)
        detail = "".join(traceback.format_exception(exc))
        pipe.send((False, RuntimeError(detail)))
    pipe.close()


def submit(fn: Callable[..., R], *args: object) -> Background[R] | None:
    """Start fn(*args) in a forked process (it sees this process's memory; only the
    result is pickled back). None when forking is not possible or there is one CPU:
    call fn yourself then."""
    if available_cpus() < 2 or not can_fork():
        return None
    reader, writer = multiprocessing.Pipe(duplex=False)
    context = multiprocessing.get_context("fork")
    process = context.Process(target=_child, args=(fn, args, writer))
    process.start()
    writer.close()
    return Background(process, reader)
