"""Run one student's notebook, step by step, in two sandboxed kernels that are restarted when they die.

The student's kernel runs the course's cells and the student's; the test kernel runs the
course's cells and the test cells, asking the student's kernel for the student's names
(`remote`, `relay`). A student's kernel that was handed hidden test code is replaced (the earlier
cells replayed) before it runs anything else.
"""

from __future__ import annotations

import textwrap
import time

from jaxcourse.grading.intake.steps import Outcome, Run, Step, StepResult, course_cells
from jaxcourse.grading.sandbox import watchdog
from jaxcourse.grading.sandbox.kernel import Kernel, KernelDied, OutputBudget
from jaxcourse.grading.sandbox.settings import Limits, Sandbox
from jaxcourse.grading.verdicts import pool
from jaxcourse.grading.verdicts.relay import run_test_part

MAX_RESTARTS = 3


def _skipped(step: Step, why: str) -> StepResult:
    hidden = Outcome("skipped", error=why) if step.hidden else None
    return StepResult(step.cell, step.kind, Outcome("skipped", error=why), hidden)


def _replay(kernel: Kernel, steps: list[Step], done: list[int], limits: Limits, deadline: float) -> bool:
    """Run the cells before a restart again, within what is left of the notebook's time."""
    for index in done:
        if steps[index].kind == "test":
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        outcome, _ = kernel.execute(steps[index].source, timeout=min(limits.cell_seconds, remaining),
                                    keep_outputs=False)
        if outcome.status in ("died", "timeout", "killed"):
            return False
    return True


class _TestKernel:
    """The test kernel of one notebook: borrowed at its first test (`pool.borrow`), given back
    when the notebook is done, replaced if it dies."""

    def __init__(self, sandbox: Sandbox, budget: OutputBudget, steps: list[Step]):
        self.sandbox = pool.tests_sandbox(sandbox)
        self.budget = budget
        self.course_cells = course_cells(steps)
        self.kernel: Kernel | None = None

    def get(self) -> Kernel:
        if self.kernel is not None and not self.kernel.alive():
            self.kernel.kill()
            self.kernel = None
        if self.kernel is None:
            self.kernel = pool.borrow(self.sandbox, self.budget, self.course_cells)
            watchdog.claim(self.kernel)
        return self.kernel

    def done(self, healthy: bool) -> None:
        if self.kernel is not None:
            if healthy:
                pool.give_back(self.kernel)
            else:
                self.kernel.kill()
            self.kernel = None


def run_steps(steps: list[Step], sandbox: Sandbox) -> Run:
    """Run `steps` in order: the notebook's cells in a fresh student's kernel (started ahead,
    `pool`), the test cells in a fresh test kernel. A student's kernel that dies or hangs is
    restarted and the steps before the culprit replayed, so one broken cell costs only its own
    task; the replay counts against the notebook's time limit."""
    limits = sandbox.limits
    start = time.monotonic()
    deadline = start + limits.notebook_seconds
    results: list[StepResult] = []
    notes: list[str] = []
    done: list[int] = []
    kernel: Kernel | None = None
    budget = OutputBudget(limits.notebook_output_chars)
    tests = _TestKernel(sandbox, budget, steps)
    finished = False
    restarts = 0
    gave_up = ""
    seen_hidden = False  # the student's kernel was handed hidden test code: replace it before it runs again
    public = "\n".join(textwrap.dedent(s.source) for s in steps if s.kind == "test")

    def end(kernel: Kernel) -> None:
        kernel.kill()
        notes.extend(gap for gap in kernel.gaps if gap not in notes)  # a missing cap, processes left

    def stop(kernel: Kernel) -> None:
        nonlocal restarts
        end(kernel)
        restarts += 1

    try:
        for index, step in enumerate(steps):
            watchdog.check_abandoned()
            if kernel is not None and seen_hidden:
                end(kernel)
                kernel = None
                seen_hidden = False
            if kernel is not None and not kernel.alive():
                culprit = done.pop() if done else None
                if culprit is not None:
                    results[culprit].visible.status = "died"
                    notes.append(f"the kernel stopped after {steps[culprit].cell} (exit code "
                                 f"{kernel.process.returncode}); restarted without that cell")
                stop(kernel)
                kernel = None
            if not gave_up and kernel is None:
                if restarts > MAX_RESTARTS:
                    gave_up = f"the kernel was restarted {MAX_RESTARTS} times; the rest was not run"
                else:
                    try:
                        kernel = pool.take(sandbox, budget)
                        watchdog.claim(kernel)
                        if not _replay(kernel, steps, done, limits, deadline):
                            raise KernelDied("replaying the earlier cells failed or ran out of the "
                                             f"notebook's time ({limits.notebook_seconds:g} s)")
                    except KernelDied as err:
                        gave_up = f"could not (re)start the kernel: {err}"
                if gave_up:
                    notes.append(gave_up)
            remaining = deadline - time.monotonic()
            if not gave_up and remaining <= 0:
                gave_up = f"the notebook's time limit ({limits.notebook_seconds:g} s) was reached"
                notes.append(gave_up)
            if gave_up:
                results.append(_skipped(step, gave_up))
                continue
            timeout = min(limits.cell_seconds, remaining)
            changes: list[str] = []
            if step.kind == "test":
                ok, changes = kernel.guard(timeout=min(60.0, remaining))
                if not ok and kernel.alive():
                    why = "the grader's guard could not run before this test (the kernel was tampered with)"
                    notes.append(f"{step.cell}: {why}")
                    results.append(StepResult(step.cell, step.kind, Outcome("error", error=why),
                                              Outcome("skipped", error=why) if step.hidden else None))
                    continue
                try:
                    test_kernel = tests.get()
                except KernelDied as err:
                    why = f"the test kernel could not start: {err}"
                    notes.append(f"{step.cell}: {why}")
                    results.append(_skipped(step, why))
                    continue
                result, seen_hidden = _run_test(test_kernel, kernel, step, timeout, public)
            else:
                outcome, _ = kernel.execute(step.source, timeout=timeout)
                result = StepResult(step.cell, step.kind, outcome)
            result.changes = changes
            results.append(result)
            slow = [o for o in (result.visible, result.hidden)
                    if o and o.status in ("ok", "error") and o.seconds > limits.cell_seconds / 2]
            if slow:
                notes.append(f"{step.cell}: took {slow[0].seconds:.0f} s of its {limits.cell_seconds:g} s limit")
            if step.kind == "test":
                if not kernel.alive():
                    notes.append(f"{step.cell}: the kernel stopped during this test; restarted")
                    stop(kernel)
                    kernel = None
                broken = [o for o in (result.visible, result.hidden) if o and o.status in ("timeout", "killed")]
                if broken:
                    notes.append(f"{step.cell}: {broken[0].error}")
                done.append(index)
                continue
            broken = [o for o in (result.visible,) if o.status in ("died", "killed", "timeout")]
            if not broken:
                done.append(index)
                continue
            outcome = broken[0]
            if outcome.status == "timeout" and kernel.alive():
                notes.append(f"{step.cell}: {outcome.error}")
                continue
            if kernel.cgroup is not None and kernel.cgroup.hit_limit():
                outcome.error = f"the kernel ran out of memory (limit {limits.memory_bytes / 2**30:g} GiB)"
            notes.append(f"{step.cell}: {outcome.error}; restarted without that cell")
            stop(kernel)
            kernel = None
        finished = True
    finally:
        if kernel is not None:
            end(kernel)
        tests.done(healthy=finished)
    return Run(results, notes, time.monotonic() - start, sandbox.isolation)


def _run_test(tests: Kernel, student: Kernel, step: Step, timeout: float, public: str) -> tuple[StepResult, bool]:
    """A test cell's visible part, then its hidden part, both decided in the test kernel. Also
    says whether the student's kernel was handed hidden test code."""
    visible, _ = run_test_part(tests, student, step.source, timeout, hidden=False)
    hidden = None
    seen = False
    if step.hidden:
        # After a visible part that failed (not one that timed out or died), the hidden part still
        # runs: the task has lost its points already, but how the answer behaves on it is what
        # tells one kept mistake from another (`behaviour`). Its line is not shown then (the
        # visible message is the one to act on first).
        if visible.status in ("ok", "error"):
            hidden, relay = run_test_part(tests, student, step.hidden, timeout, hidden=True, public=public)
            seen = relay.tainted
        else:
            hidden = Outcome("skipped", error="the visible tests failed first")
    return StepResult(step.cell, step.kind, visible, hidden), seen
