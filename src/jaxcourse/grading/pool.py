"""Kernels started ahead: a notebook's first cell runs as soon as it is scheduled.

Each time a notebook takes a kernel, the next one for the same sandbox settings starts in the
background, so it is ready when the next notebook comes. A kernel is handed out once and never
again: it holds nothing of any student before its first cell (its working folder has only what
the grader wrote), so starting it early shares nothing between students. What is left when a run
ends is stopped (`close_all`).
"""

from __future__ import annotations

import atexit
import json
import os
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from jaxcourse.grading.kernel import Kernel, OutputBudget
from jaxcourse.grading.sandbox import Sandbox

_ahead: dict[str, list[Future]] = {}
_lock = threading.Lock()
_exit_hook: list = []
_starter = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kernel-ahead")


def _key(sandbox: Sandbox, role: str) -> str:
    return json.dumps([asdict(sandbox), role], sort_keys=True, default=str)


def _start(sandbox: Sandbox, role: str) -> Kernel:
    """A started kernel in a private folder of its own (removed with the kernel)."""
    parent = Path(tempfile.mkdtemp(prefix="jc-"))
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
        if not _exit_hook:
            _exit_hook.append(atexit.register(close_all))
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


def close_all() -> None:
    """Stop every kernel started ahead and not taken."""
    with _lock:
        pending = [f for waiting in _ahead.values() for f in waiting]
        _ahead.clear()
    for future in pending:
        try:
            future.result().kill()
        except Exception:
            pass
