"""Kernels started ahead are handed out once, only for the settings they were started with, and
none is left when the run ends."""

import dataclasses

import pytest

from jaxcourse.grading.sandbox.kernel import OutputBudget
from jaxcourse.grading.sandbox.settings import Sandbox
from jaxcourse.grading.verdicts import pool


@pytest.mark.slow
def test_each_kernel_is_handed_out_once_and_the_rest_stop_at_the_end():
    pool.close_all()  # kernels other tests in this process left ahead
    box = Sandbox(env={"JAXCOURSE_PROBE": "pool"})
    other = dataclasses.replace(box, env={"JAXCOURSE_PROBE": "other"})
    taken = []
    try:
        first = pool.take(box, OutputBudget(1000))
        taken.append(first)
        outcome, _ = first.execute("left_behind = 'first student'", timeout=60)
        assert outcome.status == "ok"
        second = pool.take(box, OutputBudget(1000))  # the one started ahead by the first take
        taken.append(second)
        assert second.budget.remaining == 1000 and second.budget is not first.budget
        third = pool.take(other, OutputBudget(1000))  # never one started for `box`
        taken.append(third)
        assert len({k.workdir for k in taken}) == 3 and len({k.process.pid for k in taken}) == 3
        assert third.sandbox.env == other.env
        outcome, _ = second.execute("print('left_behind' in globals())", timeout=60)
        assert outcome.outputs[0]["text"].strip() == "False"
        ahead = [f.result() for waiting in pool._ahead.values() for f in waiting]
        assert len(ahead) == 2 and all(k.alive() for k in ahead)  # one ready for each setting
    finally:
        for kernel in taken:
            kernel.kill()
        pool.close_all()
    assert not pool._ahead
    assert not any(k.alive() for k in ahead)
    assert not any(k.parent.exists() for k in [*ahead, *taken])
