"""Mutation analysis bookkeeping. The audit itself (>= 90% of mutants killed, every assignment)
runs inside tests/quality/test_validate.py's round trips, in the same grading run as the kept mistakes."""

from pathlib import Path

import nbformat
import pytest

from jaxcourse.course import assignments
from jaxcourse.quality import audit, mutation

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = assignments.assignment_names(ROOT)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_listed_equivalent_mutants_exist(name):
    sources = {c.metadata["nbgrader"]["grade_id"]: c.source
               for p in (ROOT / "solutions" / name).glob("*.ipynb")
               for c in nbformat.read(p, as_version=4).cells if c.metadata.get("nbgrader", {}).get("solution")}
    made = {m.key for task, source in sources.items() for m in mutation.mutants(task, source)}
    stale = sorted(set(audit.equivalents(ROOT, name)) - made)
    assert not stale, f"solutions/{name}/{audit.EQUIVALENTS} lists mutants the audit no longer makes: {stale}"


def test_equivalent_mutants_stay_out_of_the_release():
    for name in ASSIGNMENTS:
        assert not (ROOT / "exercises" / name / audit.EQUIVALENTS).exists()


def test_a_weak_test_lets_mutants_survive_and_fails_the_audit():
    """The audit can fail: a task graded only on its output's shape lets value mutants through."""
    class Report:
        max_score = 2.0
        students = {}

    task = "task-01-f"
    found = mutation.mutants(task, "def f(x):\n    ### BEGIN SOLUTION\n    return x * 2 + 1\n    ### END SOLUTION")
    plan = audit.Plan("demo", {}, [{task: m} for m in found], {task: audit.TaskAudit(task, "")},
                      {task: {"test-01-f": 2.0}})

    class Record:
        def __init__(self, score, cells):
            self.score, self.cells, self.notes = score, cells, []

    Report.students = {"solution": Record(2.0, {"test-01-f": 2.0})}
    for index, _ in enumerate(plan.grouped):
        Report.students[f"mutants-{index:03d}"] = Record(2.0, {"test-01-f": 2.0})
    result = plan.score(Report, 1.0)
    assert not result.passed and result.score == 0.0
    assert "survived: task-01-f" in result.table()
