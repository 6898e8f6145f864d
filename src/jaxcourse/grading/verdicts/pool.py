"""Kernels started ahead: a notebook's first cell runs as soon as it is scheduled.

Each time a notebook takes a kernel, the next one for the same sandbox settings starts in the
background, so it is ready when the next notebook comes. A kernel is handed out once and never
again: it holds nothing of any student before its first cell (its working folder has only what
the grader wrote), so starting it early shares nothing between students. What is left when a run
ends is stopped (`close_all`).

Test kernels (`Kernel.role` "tests") are different: no student code ever runs in one, so one is
lent to notebook after notebook (`borrow`, `give_back`). It runs the course's cells once, takes a
snapshot, and after each notebook is put back to that snapshot (its names, NumPy's and Python's
random state, and everything the guard restores) before it is lent again; after `TEST_KERNEL_USES`
notebooks, or any trouble, it is stopped instead.
"""

from __future__ import annotations

import atexit
import json
import os
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

from jaxcourse.grading.sandbox.kernel import Kernel, KernelDied, OutputBudget
from jaxcourse.grading.sandbox.settings import Sandbox, folder_prefix

TEST_KERNEL_USES = 32
_ahead: dict[str, list[Future]] = {}
_idle: dict[str, list[Kernel]] = {}
_readying: dict[str, list[Future]] = {}
_lock = threading.Lock()
_exit_hook: list = []
_starter = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kernel-ahead")


def _stop_at_exit() -> None:  # called holding _lock
    if not _exit_hook:
        _exit_hook.append(atexit.register(close_all))


def _key(sandbox: Sandbox, role: str) -> str:
    return json.dumps([asdict(sandbox), role], sort_keys=True, default=str)


def _start(sandbox: Sandbox, role: str) -> Kernel:
    """A started kernel in a private folder of its own (removed with the kernel)."""
    parent = Path(tempfile.mkdtemp(prefix=folder_prefix()))
    os.chmod(parent, 0o700)
    kernel = Kernel(sandbox, parent, owns_parent=True, role=role)
    try:
        kernel.start()
    except BaseException:
        kernel.kill()
        raise
    return kernel


def take(sandbox: Sandbox, budget: OutputBudget, role: str = "student") -> Kernel:
    """A started kernel with these settings and role (`Kernel.role`) that nobody used before; the
    next one starts now. Raises KernelDied when none can be started."""
    with _lock:
        _stop_at_exit()
        waiting = _ahead.setdefault(_key(sandbox, role), [])
        future = waiting.pop(0) if waiting else None
        waiting.append(_starter.submit(_start, sandbox, role))
    kernel = None
    if future is not None:
        try:
            kernel = future.result()
        except Exception:  # it failed to start: try once more here, and report that one
            kernel = None
        if kernel is not None and not kernel.alive():
            kernel.kill()
            kernel = None
    if kernel is None:
        kernel = _start(sandbox, role)
    kernel.budget = budget
    return kernel


def one_off(sandbox: Sandbox, role: str = "student") -> Kernel:
    """A started kernel for one use, with none started after it (`take` starts the next)."""
    return _start(sandbox, role)


def tests_sandbox(sandbox: Sandbox) -> Sandbox:
    """A test kernel's settings: a compilation cache of the test kernels' own, which they add to
    (no student code runs in one); a student's kernel never sees what a test compiled."""
    return replace(sandbox, cache=sandbox.test_cache, cache_writable=bool(sandbox.test_cache))


def _ready_test_kernel(sandbox: Sandbox, course_cells: list[str], key: str) -> Kernel:
    from jaxcourse.grading.verdicts.remote import SNAPSHOT_NAME

    kernel = _start(sandbox, "tests")
    kernel.lent_for = key
    limits = sandbox.limits
    for cell in course_cells:  # one failing (it shows the student's work, say) is no reason to stop
        kernel.execute(cell, timeout=limits.cell_seconds, store_history=False, keep_outputs=False)
    ready, _ = kernel.execute(f"{SNAPSHOT_NAME}()", timeout=limits.start_seconds, store_history=False)
    if ready.status != "ok":
        kernel.kill()
        raise KernelDied(f"the test kernel could not take its snapshot: {ready.error}")
    return kernel


def _lent_key(sandbox: Sandbox, course_cells: list[str]) -> str:
    return json.dumps([_key(sandbox, "tests"), course_cells])


def borrow(sandbox: Sandbox, budget: OutputBudget, course_cells: list[str]) -> Kernel:
    """A test kernel that has run `course_cells` (the notebook's locked cells) and holds nothing
    of any notebook graded before. Raises KernelDied when none can be started."""
    key = _lent_key(sandbox, course_cells)
    with _lock:
        idle = _idle.setdefault(key, [])
        kernel = idle.pop() if idle else None
        readying = _readying.get(key, [])
        future = readying.pop(0) if kernel is None and readying else None
    if future is not None:
        try:
            kernel = future.result()
        except Exception:  # it failed to get ready: try once more here, and report that one
            kernel = None
    if kernel is None or not kernel.alive():
        if kernel is not None:
            kernel.kill()
        kernel = _ready_test_kernel(sandbox, course_cells, key)
    kernel.budget = budget
    return kernel


def start_ahead(sandbox: Sandbox, course_cells: list[str], count: int) -> None:
    """Get `count` student's kernels and test kernels ready while the grader prepares the run."""
    tests = tests_sandbox(sandbox)
    key = _lent_key(tests, course_cells)
    with _lock:
        _stop_at_exit()
        waiting = _ahead.setdefault(_key(sandbox, "student"), [])
        readying = _readying.setdefault(key, [])
        for _ in range(max(0, count - len(waiting))):
            waiting.append(_starter.submit(_start, sandbox, "student"))
        for _ in range(max(0, count - len(readying) - len(_idle.get(key, [])))):
            readying.append(_starter.submit(_ready_test_kernel, tests, course_cells, key))


def give_back(kernel: Kernel) -> None:
    """Put a borrowed test kernel back to its snapshot for the next notebook, or stop it."""
    from jaxcourse.grading.verdicts.remote import RESET_NAME

    kernel.uses += 1
    if kernel.alive() and kernel.uses < TEST_KERNEL_USES:
        reset, _ = kernel.execute(f"{RESET_NAME}()", timeout=kernel.sandbox.limits.start_seconds,
                                  store_history=False, keep_outputs=False)
        if reset.status == "ok" and kernel.alive():
            with _lock:
                _idle.setdefault(kernel.lent_for, []).append(kernel)
            return
    kernel.kill()


def close_all() -> None:
    """Stop every kernel started ahead and not taken, and every idle test kernel."""
    with _lock:
        pending = [f for waiting in [*_ahead.values(), *_readying.values()] for f in waiting]
        _ahead.clear()
        _readying.clear()
        idle = [k for kernels in _idle.values() for k in kernels]
        _idle.clear()
    for kernel in idle:
        kernel.kill()
    for future in pending:
        try:
            future.result().kill()
        except Exception:
            pass
