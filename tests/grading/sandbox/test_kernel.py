"""A kernel can be stopped from any thread, even while another thread waits on its sockets."""

import threading
import time

import pytest

from jaxcourse.grading.sandbox.kernel import KernelDied, OutputBudget
from jaxcourse.grading.sandbox.settings import Limits, Sandbox
from jaxcourse.grading.verdicts import pool


@pytest.mark.slow
def test_a_kernel_stopped_from_another_thread_mid_cell_ends_at_once_and_its_sockets_close_after():
    kernel = pool.one_off(Sandbox(limits=Limits(cell_seconds=120), isolate=False))
    kernel.budget = OutputBudget(1000)
    outcome = {}
    cell = threading.Thread(target=lambda: outcome.update(run=kernel.execute("import time\ntime.sleep(100)",
                                                                             timeout=120)[0]))
    cell.start()
    time.sleep(2.0)  # the cell runs; its thread polls the kernel's sockets
    start = time.monotonic()
    stopper = threading.Thread(target=kernel.kill, daemon=True)  # a daemon: a hang here must not hang pytest
    stopper.start()
    stopper.join(30)
    assert not stopper.is_alive(), "kill() from another thread hung (the context waited for a socket in use)"
    cell.join(30)
    assert not cell.is_alive() and outcome["run"].status == "died", outcome
    assert time.monotonic() - start < 15
    assert kernel.client is None, "the thread that used the sockets closes them on its way out"
    assert not kernel.workdir.exists()
    with pytest.raises(KernelDied, match="stopped"):
        kernel.execute("1", timeout=5)
