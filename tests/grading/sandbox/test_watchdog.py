"""A grading run never hangs silently, and a failed or stopped one changes nobody's result."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hostile_cases import ASSIGNMENT, CASES, NOTEBOOK, Context

from jaxcourse.grading import pipeline, workers
from jaxcourse.grading.sandbox.settings import Limits

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.xdist_group("recovery")
LIMITS = Limits(cell_seconds=20, notebook_seconds=240, memory_bytes=int(1.5 * 2**30))


def test_a_deadlock_that_holds_python_s_lock_still_ends_with_every_stack_in_the_log(tmp_path):
    """The watchdog's thread cannot run then; faulthandler's timer, which needs no Python, can."""
    log = tmp_path / "run.log"
    script = (
        "import re, sys\n"
        "from pathlib import Path\n"
        "from jaxcourse.grading.sandbox.watchdog import Watchdog\n"
        f"with Watchdog(stall=60, log=Path({str(log)!r}), on_stall=lambda: None, hard=1.0):\n"
        "    re.match(r'(a+)+$', 'a' * 40 + 'b')  # holds the GIL for minutes\n"
    )
    start = time.monotonic()
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert ended.returncode != 0 and time.monotonic() - start < 60
    assert "Timeout" in log.read_text() and "<string>" in log.read_text(), log.read_text()[-2000:]


def _build(tmp_path: Path, names: list[str]) -> Path:
    ctx = Context(ROOT, tmp_path / "course", tmp_path / "submissions", 0)
    for case in CASES:
        if case.name in names:
            for name, data in case.build(ctx).items():
                path = ctx.submissions / case.name / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
    return ctx.submissions


def _gradebook_rows(course: Path) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(course / "gradebook.db") as db:
        return sorted(db.execute("SELECT student.id, base_cell.name, grade.auto_score, grade.needs_manual_grade "
                                 "FROM grade JOIN base_cell ON grade.cell_id = base_cell.id "
                                 "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
                                 "JOIN submitted_assignment ON submitted_notebook.assignment_id = "
                                 "submitted_assignment.id JOIN student ON submitted_assignment.student_id = "
                                 "student.id").fetchall())


@pytest.mark.slow
def test_a_hung_worker_is_noticed_its_notebook_graded_again_and_a_failed_run_changes_nothing(tmp_path, monkeypatch):
    submitted = _build(tmp_path, ["solution", "release"])
    shutil.copytree(submitted / "solution", submitted / "stuck")
    course = tmp_path / "course"
    release = threading.Event()
    hung: list[str] = []

    def hang_once(job):
        if job.student == "stuck" and not hung:
            hung.append(job.student)
            release.wait(300)  # a grader thread that never comes back

    monkeypatch.setattr(workers, "before_job_for_tests", hang_once)
    monkeypatch.setattr(workers, "stall_seconds", lambda box: 15.0)
    try:
        report = pipeline.grade(ROOT, ASSIGNMENT, submitted, course=course, workers=2, progress=False,
                                limits=LIMITS)
    finally:
        release.set()
    assert hung == ["stuck"]
    assert {s: r.score for s, r in report.students.items()} == {"solution": 12.0, "stuck": 12.0, "release": 0.0}
    assert any("stalled the first time" in n for n in report.students["stuck"].notes)
    summary = report.summary()
    assert "the grader stalled" in summary and "run-01_xor.log" in summary, summary
    log = (course / ".jaxcourse" / "run-01_xor.log").read_text()
    assert "every thread's stack" in log and "hang_once" in log, log[-3000:]

    # A run that fails for the grader's own reasons, after the submissions were read: nothing changes.
    rows, grades = _gradebook_rows(course), (course / "grades.csv").read_bytes()
    assert len(rows) > 10 and not any(needs_manual for *_, needs_manual in rows)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug of the grader's")
        yield

    monkeypatch.setattr(pipeline, "run_all", broken)
    with pytest.raises(RuntimeError, match="a bug of the grader's"):
        pipeline.grade(ROOT, ASSIGNMENT, submitted, course=course, workers=2, progress=False, limits=LIMITS,
                       force=True, cache=False)
    assert _gradebook_rows(course) == rows
    assert (course / "grades.csv").read_bytes() == grades
    scores = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader((course / "grades.csv").open())}
    assert scores == {"solution": 12.0, "stuck": 12.0, "release": 0.0}
    assert not list(Path("/tmp").glob(f"jc-{__import__('os').getpid()}-*")), "the failed run left folders"
    assert NOTEBOOK  # the notebook every case is built around


def test_a_thread_that_comes_back_to_a_job_given_up_on_stops_without_hiding_the_next_stall():
    from jaxcourse.grading.sandbox import watchdog

    class Held:
        stopped = False

        def stop_processes(self):
            self.stopped = True

    held, later = Held(), Held()
    came_back: dict = {}

    def job():
        with watchdog.working_on("grade-test-abandoned"):
            watchdog.claim(held)
            gave_up.wait(10)
            before = watchdog.quiet_for()
            watchdog.beat()
            came_back["quiet"] = watchdog.quiet_for() >= before
            try:
                watchdog.claim(later)
            except watchdog.Abandoned as err:
                came_back["stopped"] = str(err)

    gave_up = threading.Event()
    thread = threading.Thread(target=job)
    thread.start()
    time.sleep(0.2)
    assert watchdog.stop_kernels_of("grade-test-abandoned") == 1 and held.stopped
    gave_up.set()
    thread.join(10)
    assert came_back["quiet"], "a beat from a job given up on counted as progress"
    assert "gave up" in came_back["stopped"]
    watchdog.check_abandoned()  # this thread's job (none) goes on
