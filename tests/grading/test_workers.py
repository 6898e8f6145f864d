"""Dask workers: a failure of the grader itself gets a second try, and costs one notebook at most."""

from __future__ import annotations

from jaxcourse.grading import workers
from jaxcourse.grading.sandbox import Sandbox
from jaxcourse.grading.steps import Run


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
