"""The runner's limits hold across restarts: a replay counts against the notebook's deadline."""

import os
import time

import pytest

from jaxcourse.grading import runner
from jaxcourse.grading.sandbox import Limits, Sandbox
from jaxcourse.grading.steps import Step


@pytest.mark.slow
def test_replay_after_a_crash_stops_at_the_notebook_deadline(tmp_path):
    os.chmod(tmp_path, 0o700)
    limits = Limits(cell_seconds=5, notebook_seconds=9, start_seconds=30)
    slow = [Step("answer", f"slow-{i}", "import time\ntime.sleep(1.5)") for i in range(5)]
    steps = [*slow, Step("answer", "crash", "import os\nos._exit(0)"), Step("answer", "after", "print('after')")]
    start = time.monotonic()
    run = runner.run_steps(steps, Sandbox(limits=limits, isolate=False))
    took = time.monotonic() - start
    # without the bound: 7.5 s of cells, a restart, 7.5 s of replay, then the last cell
    assert took < limits.notebook_seconds + 5, f"{took:.1f} s for a {limits.notebook_seconds:g} s notebook"
    assert any("time" in note for note in run.notes), run.notes
    assert run.results[-1].visible.status == "skipped"


@pytest.mark.slow
def test_output_is_kept_up_to_the_notebooks_budget_across_cells(tmp_path):
    os.chmod(tmp_path, 0o700)
    limits = Limits(output_chars=5_000, notebook_output_chars=12_000)
    steps = [Step("answer", f"print-{i}", "print('z' * 4000)") for i in range(6)]
    run = runner.run_steps(steps, Sandbox(limits=limits, isolate=False))
    kept = sum(len(o.get("text", "")) for r in run.results for o in r.visible.outputs if "z" * 100 in o.get("text", ""))
    assert 8_000 <= kept <= 12_000, kept
    assert "not kept" in run.results[-1].visible.outputs[-1]["text"]


def test_the_kernels_environment_names_no_host_path(monkeypatch):
    from jaxcourse.grading.sandbox import kernel_env

    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/home/me/course/dump --xla_force_host_platform_device_count=4 "
                                    "--xla_gpu_cuda_data_dir=/usr/local/cuda")
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "/home/me/course/grading/.jaxcourse/jax-cache")
    env = kernel_env(Sandbox(isolate=False), "/tmp/work")
    assert env["XLA_FLAGS"] == "--xla_force_host_platform_device_count=4"
    assert env["JAX_PLATFORMS"] == "cpu" and "JAX_COMPILATION_CACHE_DIR" not in env
    assert not any("/home/me" in value for value in env.values())
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/home/me/dump")
    assert "XLA_FLAGS" not in kernel_env(Sandbox(isolate=False), "/tmp/work"), "nothing left: not passed at all"
