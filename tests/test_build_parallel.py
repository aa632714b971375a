"""build/parallel.py: background calls in forked children, maps across processes
(forked from this one, or beside other threads from the fork server)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest

from commsite.build.parallel import available_cpus, can_fork, map_in_processes, submit

pytestmark = pytest.mark.skipif(
    available_cpus() < 2 or not can_fork(), reason="needs fork and two CPUs"
)


def _whoami(tag: str) -> tuple[str, int]:
    return tag, os.getpid()


def _big(n: int) -> bytes:
    return b"x" * n


def _fails() -> None:
    raise ValueError("in the child")


def _items(n: int) -> list[tuple[int, str]]:
    return [(i, f"item {i}") for i in range(n)]


class _Refuses:
    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("cannot pickle this")


def _refuses_late(n: int) -> list[object]:
    return [*range(n), _Refuses()]


def test_two_background_calls_both_run_in_children() -> None:
    # The second call used to find the first one's executor thread, refuse to
    # fork, and leave the caller to run it in the parent, after everything else.
    first = submit(_whoami, "a")
    second = submit(_whoami, "b")
    assert first is not None and second is not None
    (tag_a, pid_a), (tag_b, pid_b) = first.result(), second.result()
    assert (tag_a, tag_b) == ("a", "b")
    assert len({pid_a, pid_b, os.getpid()}) == 3


def test_a_result_larger_than_the_pipe_arrives_whole() -> None:
    call = submit(_big, 5_000_000)
    assert call is not None
    assert call.result() == b"x" * 5_000_000


@pytest.mark.parametrize("n", [0, 1, 499, 500, 501, 1000, 2345])
def test_a_long_list_comes_back_in_parts_whole_and_in_order(n: int) -> None:
    # (sent in parts of 500, so that neither process holds one huge message)
    call = submit(_items, n)
    assert call is not None
    assert call.result() == _items(n)


def test_a_part_that_does_not_pickle_is_an_error_in_the_parent() -> None:
    call = submit(_refuses_late, 1200)  # the third part fails, after two were sent
    assert call is not None
    with pytest.raises(RuntimeError, match="cannot pickle this"):
        call.result()


def test_an_exception_in_the_child_is_raised_in_the_parent() -> None:
    call = submit(_fails)
    assert call is not None
    with pytest.raises(ValueError, match="in the child"):
        call.result()


@pytest.mark.parametrize("fn, arg", [(_big, 5_000_000), (time.sleep, 600)])
def test_a_dropped_call_is_stopped_and_reaped(fn: Callable[[int], object], arg: int) -> None:
    # One child is blocked writing a result nobody reads, one is still working:
    # dropping the call ends both at once (or this test would hang).
    call = submit(fn, arg)
    assert call is not None
    pid = call.pid
    del call
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_map_after_a_background_call_still_forks() -> None:
    call = submit(_whoami, "a")
    assert call is not None
    pids = map_in_processes(_pid_of, list(range(8)), jobs=2)
    call.result()
    assert os.getpid() not in pids


def _pid_of(_: int) -> int:
    return os.getpid()


def _beside_a_thread(fn: Callable[[], object]) -> object:
    """fn() while a second thread runs (as `commsite serve`'s builds do)."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
        return fn()
    finally:
        stop.set()
        other.join()


def test_beside_a_thread_a_portable_map_runs_in_fork_server_workers() -> None:
    items = list(range(8))
    pids = _beside_a_thread(lambda: map_in_processes(_pid_of, items, jobs=2, portable=True))
    assert isinstance(pids, list) and len(pids) == 8 and os.getpid() not in pids
    # Not portable: in this process.
    pids = _beside_a_thread(lambda: map_in_processes(_pid_of, items, jobs=2))
    assert pids == [os.getpid()] * 8


def test_what_does_not_pickle_is_mapped_in_this_process() -> None:
    called: list[int] = []
    found = _beside_a_thread(
        lambda: map_in_processes(
            lambda x: (x, os.getpid()), list(range(6)), jobs=2, portable=True,
            meanwhile=lambda: called.append(1),
        )
    )  # fmt: skip
    assert found == [(x, os.getpid()) for x in range(6)] and called == [1]


def test_a_background_call_is_not_made_beside_a_thread() -> None:
    assert _beside_a_thread(lambda: submit(_whoami, "a")) is None
