"""A grading run never hangs silently.

Everything that moves in a run beats here: a cell that returns (in either kernel), a notebook
that finishes. `Watchdog` looks at the last beat from a thread of its own. When nothing has moved
for longer than any cell may take, it writes every thread's stack to the run's log, stops the
processes of the kernels the stuck notebooks hold (so a student's time limit holds whatever the
grader's threads do) and tells the caller which notebooks to grade again. If even the watchdog
cannot run (a deadlock that holds Python's lock), `faulthandler`'s own timer, which needs no
Python, writes the stacks and ends the process: the gradebook keeps every student's last
complete result (`pipeline`), and the next run removes what this one left (`sweep`).
"""

from __future__ import annotations

import faulthandler
import threading
import time
from collections.abc import Callable
from pathlib import Path

_last = time.monotonic()
_job = threading.local()
_held: dict[str, list] = {}  # job key: the kernels its notebook holds now
_running: set[str] = set()  # jobs being graded in this process now
_abandoned: set[str] = set()  # jobs given up on: a thread that comes back to one stops (`Abandoned`)
_lock = threading.Lock()


_live: set = set()  # every kernel started and not yet killed: none outlives a run (`kill_all`)


def started(kernel) -> None:
    with _lock:
        _live.add(kernel)


def stopped(kernel) -> None:
    with _lock:
        _live.discard(kernel)


def kill_all() -> None:
    """Stop every kernel of this process that is still running (a run that failed or was stopped)."""
    with _lock:
        kernels = list(_live)
    for kernel in kernels:
        try:
            kernel.kill()
        except Exception:
            pass


class Abandoned(BaseException):
    """Raised in a thread that came back to a job the watchdog gave up on: it stops there (no
    new kernel, no beat that would hide the next stall). A BaseException, so that no handler of
    a notebook's errors turns it into a note and goes on."""


def check_abandoned() -> None:
    key = getattr(_job, "key", None)
    if key is not None and key in _abandoned:
        raise Abandoned(f"the watchdog gave up on {key}; it is graded again elsewhere")


def beat() -> None:
    """Something moved: a cell returned, a notebook finished (not in a job given up on)."""
    global _last
    if getattr(_job, "key", None) not in _abandoned:
        _last = time.monotonic()


def quiet_for() -> float:
    return time.monotonic() - _last


class working_on:
    """The job this thread grades (`with working_on(key):`), so that its kernels can be stopped."""

    def __init__(self, key: str):
        self.key = key

    def __enter__(self):
        _job.key = self.key
        with _lock:
            _running.add(self.key)
        beat()
        return self

    def __exit__(self, *exc):
        _job.key = None
        with _lock:
            _held.pop(self.key, None)
            _running.discard(self.key)


def running() -> set[str]:
    with _lock:
        return set(_running)


def claim(kernel) -> None:
    """The current job holds `kernel` (a student's or a test kernel); a job given up on stops."""
    key = getattr(_job, "key", None)
    if key is not None:
        with _lock:
            _held.setdefault(key, []).append(kernel)
        check_abandoned()


def stop_kernels_of(key: str) -> int:
    """Stop the processes of the kernels a stuck job holds (not their sockets: the stuck thread may
    still be using them); return how many."""
    with _lock:
        kernels = _held.pop(key, [])
        _abandoned.add(key)
    for kernel in kernels:
        try:
            kernel.stop_processes()
        except Exception:
            pass
    return len(kernels)


def dump_threads(log: Path, why: str) -> None:
    with open(log, "a") as out:
        out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {why}; every thread's stack:\n")
        out.flush()
        faulthandler.dump_traceback(file=out, all_threads=True)


class Watchdog:
    """Calls `on_stall()` from its own thread each time nothing has moved for `stall` seconds;
    `hard` seconds of silence even the watchdog did not see end the process (`faulthandler`)."""

    def __init__(self, stall: float, log: Path, on_stall: Callable[[], None], hard: float | None = None):
        self.stall = stall
        self.hard = hard if hard is not None else 3 * stall
        self.log = log
        self.on_stall = on_stall
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="grading-watchdog", daemon=True)
        self._log_file = None

    def __enter__(self):
        beat()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log, "a")
        self._arm()
        self._thread.start()
        return self

    def _arm(self) -> None:
        faulthandler.dump_traceback_later(self.hard, repeat=False, file=self._log_file, exit=True)

    def _watch(self) -> None:
        tick = min(5.0, self.stall / 4)
        while not self._stop.wait(tick):
            self._arm()  # this thread runs: Python is not deadlocked
            if quiet_for() > self.stall:
                dump_threads(self.log, f"nothing moved for {quiet_for():.0f} s")
                beat()  # the next stall is counted from now
                try:
                    self.on_stall()
                except Exception as err:  # the watchdog must outlive a bug in its callback
                    with open(self.log, "a") as out:
                        out.write(f"watchdog: recovery failed: {err!r}\n")

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        faulthandler.cancel_dump_traceback_later()
        self._log_file.close()
