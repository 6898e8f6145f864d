"""Mutation analysis bookkeeping and its record. The audit itself (>= 90% of mutants killed, every
assignment) is recorded by `jaxcourse audit` (tests/audit/); tests/quality/test_validate.py's round
trips check each record and grade a sample of its mutants again, in the same run as the kept mistakes."""

import shutil
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


def _course_copy(tmp_path: Path, name: str) -> Path:
    """A course folder holding one assignment's source, for the record's bookkeeping."""
    shutil.copytree(ROOT / "solutions" / name, tmp_path / "solutions" / name)
    return tmp_path


def _report(name: str, killed: int, survived: int) -> audit.AuditReport:
    made = mutation.mutants("task-01-f", "def f(x):\n    ### BEGIN SOLUTION\n    return x * 2 + 1\n    ### END SOLUTION")
    task = audit.TaskAudit("task-01-f", "", killed=made[:killed], survived=made[killed:killed + survived])
    return audit.AuditReport(name, [task], 1.0, 2)


def test_a_record_is_current_until_its_assignment_changes(tmp_path):
    name = ASSIGNMENTS[0]
    root = _course_copy(tmp_path, name)
    audit.save(root, _report(name, 3, 0), audit.CAP)
    record, problems = audit.recorded(root, name)
    assert record["score"] == 1.0 and not problems
    notebook = next((root / "solutions" / name).glob("*.ipynb"))
    notebook.write_text(notebook.read_text().replace("BEGIN SOLUTION", "BEGIN SOLUTION ", 1))
    assert "stale" in " ".join(audit.recorded(root, name)[1])


def test_a_missing_small_or_failing_record_is_reported(tmp_path):
    name = ASSIGNMENTS[0]
    root = _course_copy(tmp_path, name)
    assert "no audit record" in audit.recorded(root, name)[1][0]
    audit.save(root, _report(name, 1, 1), 3)
    said = " ".join(audit.recorded(root, name)[1])
    assert "fewer than 8" in said and "50%" in said and "below 90%" in said


def test_a_sample_that_disagrees_with_the_record_is_named():
    before = _report("demo", 2, 1).tasks[0]
    record = {"tasks": {before.task: {"killed": [m.key for m in before.killed],
                                      "survived": [m.key for m in before.survived]}}}
    assert audit.agreement(record, _report("demo", 2, 1)) == []
    found = audit.agreement(record, _report("demo", 3, 0))  # the record's survivor, killed now
    assert len(found) == 1 and "killed now, survived in the record" in found[0]
