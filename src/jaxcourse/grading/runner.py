"""Run one student's notebook, step by step, in a sandboxed kernel that is restarted when it dies."""

from __future__ import annotations

import secrets
import time

from jaxcourse.grading import guard, pool
from jaxcourse.grading.kernel import Kernel, KernelDied, OutputBudget
from jaxcourse.grading.sandbox import Limits, Sandbox
from jaxcourse.grading.steps import Outcome, Run, Step, StepResult

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
        outcome, _ = kernel.execute(steps[index].source, timeout=min(limits.cell_seconds, remaining))
        if outcome.status in ("died", "timeout", "killed"):
            return False
    return True


def run_steps(steps: list[Step], sandbox: Sandbox) -> Run:
    """Run `steps` in order in a fresh kernel (started ahead, `pool`). A kernel that dies or hangs
    is restarted and the steps before the culprit replayed, so one broken cell costs only its own
    task; the replay counts against the notebook's time limit."""
    limits = sandbox.limits
    start = time.monotonic()
    deadline = start + limits.notebook_seconds
    results: list[StepResult] = []
    notes: list[str] = []
    done: list[int] = []
    kernel: Kernel | None = None
    budget = OutputBudget(limits.notebook_output_chars)
    restarts = 0
    gave_up = ""

    def stop(kernel: Kernel) -> None:
        nonlocal restarts
        kernel.kill()
        restarts += 1

    try:
        for index, step in enumerate(steps):
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
            result = _run_step(kernel, step, timeout)
            result.changes = changes
            results.append(result)
            slow = [o for o in (result.visible, result.hidden)
                    if o and o.status in ("ok", "error") and o.seconds > limits.cell_seconds / 2]
            if slow:
                notes.append(f"{step.cell}: took {slow[0].seconds:.0f} s of its {limits.cell_seconds:g} s limit")
            broken = [o for o in (result.visible, result.hidden) if o and o.status in ("died", "killed", "timeout")]
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
    finally:
        if kernel is not None:
            kernel.kill()
    return Run(results, notes, time.monotonic() - start, sandbox.isolation)


def _run_step(kernel: Kernel, step: Step, timeout: float) -> StepResult:
    if step.kind != "test":
        outcome, _ = kernel.execute(step.source, timeout=timeout)
        return StepResult(step.cell, step.kind, outcome)
    visible = _run_test_part(kernel, step.source, timeout)
    hidden = None
    if step.hidden:
        if visible.status == "ok":
            hidden = _run_test_part(kernel, step.hidden, timeout, store_history=False)
        else:
            hidden = Outcome("skipped", error="the visible tests failed first")
    return StepResult(step.cell, step.kind, visible, hidden)


def _run_test_part(kernel: Kernel, code: str, timeout: float, store_history: bool = True) -> Outcome:
    nonce = secrets.token_hex(8)
    outcome, value = kernel.execute(f"{code}\n{guard.RECEIPT_NAME} = {nonce!r}", timeout=timeout,
                                    store_history=store_history, receipt_expr=guard.RECEIPT_NAME)
    for output in outcome.outputs:  # the receipt line is the grader's, not the student's business
        if output.get("output_type") == "error":
            output["traceback"] = [line for line in output.get("traceback", []) if guard.RECEIPT_NAME not in line]
    if outcome.status == "ok" and value != nonce:
        outcome.status = "error"
        outcome.error = "the test did not run to its end (the kernel reported success without it)"
    return outcome
