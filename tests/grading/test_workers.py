"""Dask workers: a failure of the grader itself gets a second try, and costs one notebook at most."""

from __future__ import annotations

from jaxcourse.grading import workers
from jaxcourse.grading.intake.steps import Run
from jaxcourse.grading.sandbox.settings import Sandbox


def _jobs(*students):
    return [workers.Job(s, "01_xor.ipynb", [], Sandbox()) for s in students]


def test_a_grader_failure_is_retried_once_and_noted(monkeypatch):
    tries: dict[str, int] = {}

    def flaky(job):
        tries[job.student] = tries.get(job.student, 0) + 1
        if job.student == "unlucky" and tries[job.student] == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=30, after=26)")
        if job.student == "broken":
            raise RuntimeError("always")
        return Run([], [], 0.5, "test").to_dict()

    monkeypatch.setattr(workers, "_run_job_here", flaky)
    done = dict((job.student, run) for job, run in
                workers.run_all(_jobs("fine", "unlucky", "broken"), 2, None, progress=False))
    assert tries == {"fine": 1, "unlucky": 2, "broken": 2}
    assert done["fine"].notes == []
    assert "graded a second time" in done["unlucky"].notes[0] and "recursion depth" in done["unlucky"].notes[0]
    assert isinstance(done["broken"], RuntimeError)


def _hang_first_try_of(student: str, tries: dict, release, always: bool = False):
    def run(job):
        tries[job.student] = tries.get(job.student, 0) + 1
        if job.student == student and (always or tries[job.student] == 1):
            release.wait(120)  # a thread of the grader's that never comes back
        return Run([], [], 0.5, "test").to_dict()

    return run


def test_a_stalled_notebook_is_graded_again_and_every_stack_goes_to_the_log(monkeypatch, tmp_path):
    import threading

    release, tries, stalls = threading.Event(), {}, []
    monkeypatch.setattr(workers, "_run_job_here", _hang_first_try_of("stuck", tries, release))
    monkeypatch.setattr(workers, "stall_seconds", lambda box: 2.0)
    log = tmp_path / "run.log"
    try:
        done = dict((job.student, run) for job, run in
                    workers.run_all(_jobs("fine", "stuck", "also-fine"), 2, None, False, log, stalls))
    finally:
        release.set()
    assert tries == {"fine": 1, "stuck": 2, "also-fine": 1}
    assert all(isinstance(run, Run) for run in done.values())
    assert done["fine"].notes == [] and "stalled the first time" in done["stuck"].notes[0]
    assert len(stalls) == 1 and "(stuck)" in stalls[0]
    text = log.read_text()
    assert "nothing moved for" in text and "test_workers.py" in text and "(stuck)" in text


def test_a_notebook_that_stalls_twice_is_not_graded_and_the_others_are(monkeypatch, tmp_path):
    import threading

    release, tries, stalls = threading.Event(), {}, []
    monkeypatch.setattr(workers, "_run_job_here", _hang_first_try_of("stuck", tries, release, always=True))
    monkeypatch.setattr(workers, "stall_seconds", lambda box: 2.0)
    try:
        done = dict((job.student, run) for job, run in
                    workers.run_all(_jobs("fine", "stuck"), 1, None, False, tmp_path / "run.log", stalls))
    finally:
        release.set()
    assert tries == {"fine": 1, "stuck": 2} and len(stalls) == 2
    assert isinstance(done["fine"], Run)
    assert isinstance(done["stuck"], workers.GraderStalled) and "not graded" in str(done["stuck"])


def test_the_grader_cluster_runs_no_frame_sampling_profiler():
    """Dask's worker profiler calls sys._current_frames() every 10 ms: on CPython 3.11 before
    3.11.9 that can deadlock with a thread being started (python/cpython#106883)."""
    import dask

    with dask.config.set(workers.NO_PROFILER):
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                assert client.run(lambda dask_worker: dask_worker.periodic_callbacks.get("profile")) == \
                    {w: None for w in cluster.scheduler.workers}
