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
import pickle
import threading
import traceback
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import accumulate
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any, Generic, TypeVar

__all__ = [
    "Background",
    "available_cpus",
    "can_fork",
    "in_worker",
    "map_in_processes",
    "submit",
]

T = TypeVar("T")
R = TypeVar("R")

_FORKSERVER = "forkserver"
# A background call's list result goes back in parts of this many items.
_CHUNK = 500
_CHUNKED = "chunked"
_METHODS = multiprocessing.get_all_start_methods()
# What the fork server imports once, so that its workers start with it.
_PRELOAD = ["commsite.build.render"]


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


def in_worker() -> bool:
    """Whether this process is a map's worker (which ends with the map)."""
    return _Worker.fn is not None


def _start_worker(fn: Callable[[Any], Any], items: Sequence[Any]) -> None:
    gc.disable()  # (see the module's docstring)
    _Worker.fn, _Worker.items = fn, items


def _run_items(items: Sequence[Any]) -> list[object]:
    fn = _Worker.fn
    assert fn is not None
    return [fn(item) for item in items]


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
    portable: bool = False,
    weights: Sequence[int] | None = None,
) -> list[R]:
    """[fn(x) for x in items], in order; across `jobs` forked processes when jobs > 1
    (and forking is safe, see `can_fork`). `meanwhile` is called in this process
    once, while the workers run (after the items, when there are none).
    `progress` counts items, or their `weights` (what each stands for: files).

    `portable`: fn and the items can be pickled. Where this process must not
    fork (beside `commsite serve`'s threads), the workers are then forked from
    the fork server (a clean process started once, with the build's modules
    imported): fn reaches each worker once, each item is pickled once. When
    something does not pickle after all, the items are done in this process.

    An exception raised by `fn` propagates (the pool is shut down first).
    """
    total = len(items)
    counts = list(accumulate(weights, initial=0)) if weights is not None else None
    if progress and counts is not None:
        progress = _weighed(progress, counts)
    if progress:
        progress(0, total)  # the step starts now (commsite.progress times it from here)
    many = jobs > 1 and total >= 2
    if meanwhile is not None:
        meanwhile = _once(meanwhile)
    if many and can_fork():
        return _pool_map(fn, items, jobs, progress, meanwhile, fork=True)
    if many and portable and _FORKSERVER in _METHODS:
        try:
            return _pool_map(fn, items, jobs, progress, meanwhile, fork=False)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            if not _unpicklable(exc):
                raise
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


def _weighed(
    progress: Callable[[int, int], None], counts: Sequence[int]
) -> Callable[[int, int], None]:
    """`progress` told the weight of the items done rather than their number
    (`counts`: the running sum of the weights). Items finish in chunks of
    neighbours, so the first `done` items is near enough."""
    return lambda done, total: progress(counts[done], counts[total])


def _once(fn: Callable[[], None]) -> Callable[[], None]:
    called: list[bool] = []

    def call() -> None:
        if not called:
            called.append(True)
            fn()

    return call


def _pool_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    progress: Callable[[int, int], None] | None,
    meanwhile: Callable[[], None] | None,
    *,
    fork: bool,
) -> list[R]:
    """map_in_processes's pool: forked from this process (the items are in the
    workers' memory: only chunk bounds go down the pipe), or from the fork
    server (the chunks' items are pickled)."""
    total = len(items)
    # Small chunks balance the load; not so small that the pipe dominates.
    size = max(1, min(100, total // (jobs * 8)))
    chunks = [(start, min(start + size, total)) for start in range(0, total, size)]
    out: list[list[R] | None] = [None] * len(chunks)
    done = 0
    context: BaseContext = multiprocessing.get_context("fork" if fork else _FORKSERVER)
    if not fork:
        multiprocessing.set_forkserver_preload(_PRELOAD)  # (once the server runs, it has them)
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(chunks)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(fn, items if fork else ()),
    ) as pool:
        futures: dict[Future[list[object]], int] = {
            (
                pool.submit(_run_chunk, bounds)
                if fork
                else pool.submit(_run_items, items[slice(*bounds)])
            ): n
            for n, bounds in enumerate(chunks)
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


def _unpicklable(exc: BaseException) -> bool:
    """Whether the error is pickle's (an item or fn that does not pickle)."""
    return isinstance(exc, pickle.PicklingError) or "pickle" in str(exc)


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
            ok, value = _receive(self._pipe)
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


def _receive(pipe: Connection) -> tuple[bool, Any]:
    """What `_send` sent: (ok, value)."""
    ok, value = pipe.recv()
    if ok != _CHUNKED:
        return ok, value
    items: list[object] = []
    for _ in range(value):
        part = pipe.recv()
        if type(part) is tuple:  # (ok, error): a part did not pickle
            return part
        items.extend(part)
    return True, items


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
        _send(pipe, payload)
    except Exception as exc:  # (an exception or a result that does not pickle)
        detail = "".join(traceback.format_exception(exc))
        pipe.send((False, RuntimeError(detail)))
    pipe.close()


def _send(pipe: Connection, payload: tuple[bool, object]) -> None:
    """Send (ok, value); a long list in parts of `_CHUNK` items, after a header
    (_CHUNKED, how many parts). Pickled whole, the federation objects of 10,000
    stories were a 170 MB message: both processes held it beside the objects
    (the parent's peak memory), where each part is about 8 MB."""
    ok, value = payload
    if not ok or type(value) is not list or len(value) <= _CHUNK:
        pipe.send(payload)
        return
    parts = range(0, len(value), _CHUNK)
    pipe.send((_CHUNKED, len(parts)))
    for start in parts:
        pipe.send(value[start : start + _CHUNK])


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
