"""Progress of long steps, for a person at a terminal and for a CI log.

Any step that takes a while reports through one callable, the same one the
build passes down (`commsite.build.run.Progress`):

    progress(stage, done, total)

* `stage`: a short lower-case name of the step, "parsing", "rendering",
  "image variants", "search index", "checking links" ... Its unit ("files",
  "pages", "images", "addresses") comes from `UNITS`; add yours there, or pass
  it once with `ProgressReporter.unit(stage, noun)`.
* `done`: how many items are finished; `total`: how many there are, or 0 when
  that is not known yet (the line then shows only the count).
* Call it as often as you like, with `done == 0` when the step starts (so its
  time counts from there) and `done == total` when it ends: the reporter keeps
  the cost of a call to a clock read and a comparison, and decides itself what
  to show. Calls may come from any thread.

`ProgressReporter` is that callable for the command line. On a terminal it
rewrites one line on stderr ("rendering 1,234/6,000 pages", after the first
half second); when stderr is not a terminal (a pipe, a file, CI) it prints a
line every `interval` seconds (5 by default, `COMMSITE_PROGRESS_INTERVAL` in
the environment sets another) with the counts and the time since the start,
also from a timer between calls, so a step that reports nothing for a while
(assembling the site, a tool run as a subprocess) still shows in the log; at
the end, if it printed any, one summary line with the time each step took (a
step lasts until the next one starts).

The timer is SIGALRM (`setitimer`), not a thread: the build forks its workers
only while it is the process's one thread (build.parallel.can_fork), and forked
children do not inherit an interval timer. It is used only from the main
thread, and only when nothing else has set a SIGALRM handler or an interval
timer; otherwise lines come from the calls alone. Its handler never waits for
the reporter's lock, and a write it cannot make is skipped.
With `quiet` it shows nothing. Nothing in the build depends on it: a step
called with `progress=None` reports nowhere.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TextIO

__all__ = [
    "INTERVAL_ENV",
    "UNITS",
    "Progress",
    "ProgressReporter",
    "interval_from",
]

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): see the module's docstring."""

Mode = Literal["terminal", "lines", "off"]

INTERVAL_ENV = "COMMSITE_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 5.0  # seconds between lines when not on a terminal
TERMINAL_DELAY = 0.5  # a terminal shows nothing for steps quicker than this
TERMINAL_REFRESH = 0.1  # and rewrites its line at most this often
MIN_TICK = 0.05  # the timer's shortest period, whatever the interval (signals cost)
MAX_TICK = 1.0  # and its longest: a line is due at most this long before it shows

# The unit each stage counts; a stage not named here counts "items".
UNITS: dict[str, str] = {
    "scanning": "files",
    "parsing": "files",
    "planning": "pages",
    "rendering": "pages",
    "writing": "files",
    "checking links": "addresses",
    "image variants": "images",
    "search index": "pages",
}


def interval_from(environ: Mapping[str, str]) -> float:
    """COMMSITE_PROGRESS_INTERVAL as seconds (> 0), or the default when unset or not a number."""
    text = environ.get(INTERVAL_ENV, "").strip()
    try:
        value = float(text)
    except ValueError:
        return DEFAULT_INTERVAL
    return value if value > 0 and value == value and value != float("inf") else DEFAULT_INTERVAL


@dataclass(slots=True)
class _Stage:
    started: float
    ended: float
    done: int = 0
    total: int = 0


class ProgressReporter:
    """The `Progress` callable for the command line (see the module docstring)."""

    def __init__(
        self,
        stream: TextIO,
        mode: Mode,
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        timer: bool = True,
    ) -> None:
        self.stream = stream
        self.mode: Mode = mode
        self.interval = interval
        self._clock = clock
        self._start = clock()
        self._next = self._start + (TERMINAL_DELAY if mode == "terminal" else interval)
        self._stages: dict[str, _Stage] = {}
        self._units = dict(UNITS)
        self._lines = 0  # lines printed (lines mode)
        self._shown = False  # a line is on the terminal
        self._lock = threading.Lock()
        self._current: str | None = None  # the stage reported last
        self._use_timer = timer  # lines mode: print between calls too (SIGALRM)
        self._alarm: Any = None  # the SIGALRM handler we replaced, while the timer runs

    @classmethod
    def for_stream(
        cls,
        stream: TextIO,
        *,
        quiet: bool = False,
        environ: Mapping[str, str] = os.environ,
        clock: Callable[[], float] = time.monotonic,
    ) -> ProgressReporter:
        """A terminal line on a terminal, timed lines elsewhere, nothing when `quiet`."""
        mode: Mode
        if quiet:
            mode = "off"
        elif _is_terminal(stream) and environ.get("TERM") != "dumb":
            mode = "terminal"
        else:
            mode = "lines"
        return cls(stream, mode, interval=interval_from(environ), clock=clock)

    def unit(self, stage: str, noun: str) -> None:
        """Count `stage` in `noun` ("images") instead of "items"."""
        self._units[stage] = noun

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.mode == "off":
            return
        now = self._clock()
        with self._lock:
            entry = self._stages.get(stage)
            if entry is None:
                previous = self._stages.get(self._current or "")
                if previous is not None:  # a step lasts until the next one starts
                    previous.ended = max(previous.ended, now)
                entry = self._stages[stage] = _Stage(now, now)
                if self.mode == "lines" and self._use_timer and self._alarm is None:
                    self._start_timer()
            self._current = stage
            entry.ended, entry.done, entry.total = now, done, total
            if now < self._next:
                return
            if self.mode == "terminal":
                self._next = now + TERMINAL_REFRESH
                self._write(f"\r\x1b[K{self._describe(stage, entry)}")
                self._shown = True
            else:
                self._line(now)

    def _line(self, now: float) -> None:
        """Print the current step's line (lines mode; the lock is held)."""
        stage = self._current
        if stage is None or self.mode != "lines":
            return
        self._next = now + self.interval
        elapsed = _seconds(now - self._start)
        self._write(f"{self._describe(stage, self._stages[stage])}, {elapsed} elapsed\n")
        self._lines += 1

    def _start_timer(self) -> None:
        """Tick every interval with SIGALRM when that is ours to use (see the docstring)."""
        setitimer = getattr(signal, "setitimer", None)
        if setitimer is None or threading.current_thread() is not threading.main_thread():
            self._use_timer = False
            return
        try:
            if signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None):
                self._use_timer = False
                return
            if signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0):
                self._use_timer = False
                return
            self._alarm = signal.signal(signal.SIGALRM, self._tick)
            # Ticks come more often than lines, so a line is at most a tick late.
            period = max(min(self.interval, MAX_TICK), MIN_TICK)
            setitimer(signal.ITIMER_REAL, period, period)
        except (OSError, ValueError):
            self._use_timer = False

    def _tick(self, signum: int, frame: object) -> None:
        # In the main thread, between two bytecodes of whatever it was doing: never
        # wait (it may hold the lock itself), and let a busy stream go.
        if not self._lock.acquire(blocking=False):
            return
        try:
            now = self._clock()
            if now >= self._next:
                self._line(now)
        finally:
            self._lock.release()

    def _stop_timer(self) -> None:
        if self._alarm is None:
            return
        try:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, self._alarm)
        except (OSError, ValueError):
            pass
        self._alarm = None
        self._use_timer = False

    def finish(self) -> None:
        """End the display: clear the terminal line; in a log that had progress
        lines, print how long each step took. Call it once the work is over
        (before printing the result)."""
        self._stop_timer()
        with self._lock:
            current = self._stages.get(self._current or "")
            if current is not None:
                current.ended = max(current.ended, self._clock())
            if self._shown:
                self._write("\r\x1b[K")
                self._shown = False
            if self._lines:
                self._lines = 0
                self._write(self.summary() + "\n")

    def summary(self) -> str:
        """'Took 64.2 s: parsing 6,000 files 10.1 s, rendering 6,000 pages 40.0 s, ...'."""
        total = _seconds(self._clock() - self._start)
        parts = []
        for stage, entry in self._stages.items():
            count = f" {entry.done:,} {self._units.get(stage, 'items')}" if entry.done else ""
            parts.append(f"{stage}{count} {_seconds(entry.ended - entry.started)}")
        return f"Took {total}: " + ", ".join(parts) if parts else f"Took {total}"

    def _describe(self, stage: str, entry: _Stage) -> str:
        unit = self._units.get(stage, "items")
        if entry.total > 0:
            percent = min(100, entry.done * 100 // entry.total)
            return f"{stage} {entry.done:,}/{entry.total:,} {unit} ({percent}%)"
        if entry.done:
            return f"{stage} {entry.done:,} {unit}"
        return stage

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe: progress is never worth failing for
            self.mode = "off"
        except RuntimeError:  # the timer came in the middle of another write: skip this one
            pass


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"
