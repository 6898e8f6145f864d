"""Warm kernels forked from one zygote share nothing with each other or with the zygote, and a
cold kernel (a fresh Python each) still works where a zygote cannot be used."""

import json
import os
import threading
import time

import pytest

from jaxcourse.grading.sandbox import zygote
from jaxcourse.grading.sandbox.kernel import Kernel
from jaxcourse.grading.sandbox.settings import Sandbox

LEAVE_TRACES = """
import os, sys, jax, numpy
jax._left_by_first = 'yes'
sys.modules['numpy']._left_by_first = 'yes'
os.environ['LEFT_BY_FIRST'] = 'yes'
open('/tmp/left-by-first', 'w').write('yes')
"""
LOOK_FOR_TRACES = """
import os, sys, jax
print(json.dumps([getattr(jax, '_left_by_first', None), getattr(sys.modules['numpy'], '_left_by_first', None),
                  os.environ.get('LEFT_BY_FIRST'), os.path.exists('/tmp/left-by-first')]))
"""
DESCRIBE = """
import json, os, random, numpy
fds = {}
for fd in os.listdir('/proc/self/fd'):
    try:
        fds[fd] = os.readlink(f'/proc/self/fd/{fd}')
    except OSError:
        pass
print(json.dumps({"pid": os.getpid(), "uid": os.getuid(), "fds": sorted(fds.values()),
                  "random": random.random(), "numpy": float(numpy.random.rand())}))
"""


def _run(kernel: Kernel, code: str) -> str:
    outcome, _ = kernel.execute(code, timeout=60)
    assert outcome.status == "ok", outcome.error
    return "".join(o.get("text", "") for o in outcome.outputs if o.get("output_type") == "stream")


@pytest.fixture
def kernels(tmp_path):
    started = []

    def start(box: Sandbox) -> Kernel:
        parent = tmp_path / f"k{len(started)}"
        parent.mkdir(mode=0o700)
        kernel = Kernel(box, parent)
        started.append(kernel)
        kernel.start()
        return kernel

    yield start
    for kernel in started:
        kernel.kill()


@pytest.mark.slow
def test_two_warm_kernels_share_no_state_and_cannot_reach_the_zygote(kernels):
    box = Sandbox()
    assert box.warm, "this machine has pidfd_open: kernels should be warm"
    first = kernels(box)
    _run(first, LEAVE_TRACES)
    first_seen = json.loads(_run(first, DESCRIBE))
    second = kernels(box)
    _run(second, "import json")
    assert json.loads(_run(second, LOOK_FOR_TRACES)) == [None, None, None, False]
    second_seen = json.loads(_run(second, DESCRIBE))
    # every fork reseeds: two students' unseeded draws differ, as in two fresh processes
    assert first_seen["random"] != second_seen["random"]
    assert first_seen["numpy"] != second_seen["numpy"]
    # the zygote's pipes to the grader are closed in every kernel
    warm = zygote.for_env(*_key(box))
    pipes = {os.readlink(f"/proc/{warm.process.pid}/fd/{fd}") for fd in (0, 1)}
    assert pipes and all(p.startswith("pipe:") for p in pipes)
    assert not pipes & set(first_seen["fds"]) and not pipes & set(second_seen["fds"])
    if box.isolate:
        assert first_seen["uid"] == second_seen["uid"] == 65534
        assert first_seen["pid"] == second_seen["pid"] == 1  # each in its own PID namespace


def _key(box: Sandbox):
    from jaxcourse.grading.sandbox.settings import INSIDE, kernel_env

    return kernel_env(box, INSIDE), box.preload


@pytest.mark.slow
def test_the_zygote_outlives_the_thread_that_started_it(kernels):
    """Dask runs each job on a thread that ends; the zygote must not end with it."""
    box = Sandbox(env={"JAXCOURSE_PROBE": "thread"})  # a zygote of its own
    started = []
    thread = threading.Thread(target=lambda: started.append(zygote.for_env(*_key(box))))
    thread.start()
    thread.join()
    assert started[0].alive()
    kernel = kernels(box)
    assert _run(kernel, "import os; print(os.environ['JAXCOURSE_PROBE'])").strip() == "thread"
    assert zygote.for_env(*_key(box)) is started[0]


@pytest.mark.slow
def test_a_kernel_that_exits_reports_its_code(kernels):
    kernel = kernels(Sandbox())
    kernel.client.execute("import os; os._exit(3)")
    assert kernel.process.wait(timeout=30) == 3
    assert not kernel.alive()


@pytest.mark.slow
def test_a_cold_kernel_still_runs_a_cell(kernels):
    kernel = kernels(Sandbox(warm=False))
    assert not isinstance(kernel.process, zygote.Forked)
    assert _run(kernel, "import jax.numpy as jnp; print(int(jnp.arange(4).sum()))").strip() == "6"


def test_imports_of_the_source_are_preloaded_except_matplotlib():
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import sympy\nfrom scipy import ndimage\n  import optax.tree\n"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nimport jax.numpy as jnp"),
        nbformat.v4.new_markdown_cell("import not_code"),
    ])
    assert zygote.imports_of([notebook]) == ("optax.tree", "scipy", "sympy")


@pytest.mark.slow
def test_kernels_die_with_their_zygote(kernels):
    """A grader that exits (its zygote's stdin closes) leaves no kernel behind, started ahead or not."""
    box = Sandbox(env={"JAXCOURSE_PROBE": "dies"})
    kernel = kernels(box)
    assert kernel.alive()
    zygote.for_env(*_key(box)).close()
    kernel.process.wait(timeout=30)
    assert not kernel.alive()
    if kernel.cgroup is not None:  # nothing of it is left either: its namespace died with it
        deadline = time.monotonic() + 5
        while kernel.cgroup.members() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not kernel.cgroup.members()
