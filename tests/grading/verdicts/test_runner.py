"""The runner's limits hold across restarts: a replay counts against the notebook's deadline."""

import os
import time

import pytest

from jaxcourse.grading.intake.steps import Step
from jaxcourse.grading.sandbox.settings import Limits, Sandbox
from jaxcourse.grading.verdicts import runner


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
    from jaxcourse.grading.sandbox.settings import kernel_env

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


def test_a_cgroup_setting_that_cannot_be_made_is_named(tmp_path, monkeypatch):
    """A fake cgroup v1 tree whose memory hierarchy refuses the limit and whose pids one is missing."""
    from pathlib import Path

    from jaxcourse.grading.sandbox import settings

    (tmp_path / "memory").mkdir()
    monkeypatch.setattr(settings, "CGROUPS", tmp_path)
    real_write = Path.write_text

    def refuse_memory_limit(path, text, *args, **kwargs):
        if path.name == "memory.limit_in_bytes":
            raise PermissionError(13, "Permission denied")
        return real_write(path, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", refuse_memory_limit)
    missing = settings.Cgroups(2**30, 64).missing
    assert len(missing) == 2, missing
    assert missing[0].startswith("no memory cap: cannot set memory.limit_in_bytes") and "Permission denied" in missing[0]
    assert missing[1].startswith("no cap on processes and threads: cannot make a cgroup in")
    monkeypatch.setattr(settings, "CGROUPS", tmp_path / "absent")
    assert settings.Cgroups(2**30, 64).missing[-1].startswith("no record of the kernel's processes")


class _FailingCgroups:
    """Stands in for a kernel's cgroups on a machine where none of it works."""

    procs: list = []
    missing = ["no memory cap: cannot set memory.max in /sys/fs/cgroup (No such file or directory)"]

    def kill_all(self, seconds: float = 10.0) -> bool:
        return False

    def members(self) -> set:
        return {1, 2}

    def hit_limit(self) -> bool:
        return False

    def remove(self) -> None:
        pass


@pytest.mark.slow
def test_what_could_not_be_enforced_reaches_the_runs_notes_and_the_summary(tmp_path, monkeypatch):
    from pathlib import Path

    from jaxcourse.grading.out.summary import Report, Student, summarize
    from jaxcourse.grading.sandbox import kernel

    monkeypatch.setattr(kernel, "kernel_cgroups", lambda limits: _FailingCgroups())
    steps = [Step("answer", "one", "print(1)"), Step("answer", "crash", "import os\nos._exit(1)"),
             Step("answer", "two", "print(2)")]
    run = runner.run_steps(steps, Sandbox(limits=Limits(start_seconds=60), isolate=False))
    assert run.notes.count(_FailingCgroups.missing[0]) == 1, run.notes
    outlived = [n for n in run.notes if n.startswith("processes may have outlived grading")]
    assert outlived == ["processes may have outlived grading: 2 of its kernel's processes still ran after 10 s "
                        "of SIGKILL"], run.notes
    students = {"ada": Student(score=12.0, notes=list(run.notes)), "bob": Student(score=12.0, notes=list(run.notes))}
    text = summarize(Report("01_xor", 12.0, [], students, ["ada", "bob"], [], "namespaces", 1, 1.0, Path("/tmp/c")))
    warnings = [line for line in text.splitlines() if line.startswith("  warning:")]
    assert warnings == [f"  warning: {_FailingCgroups.missing[0]} (2 student(s): ada, bob)",
                        f"  warning: {outlived[0]} (2 student(s): ada, bob)"], text
    assert text.count("no memory cap") == 1, "said once, not once a student"
