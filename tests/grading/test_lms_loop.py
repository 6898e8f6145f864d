"""The instructor's loop through the real CLI: a Canvas zip and gradebook export go through
`grade --roster --due --late-penalty` and `export`; then the same class as Moodle delivers it
(same ids, same notebooks, so nobody is graded again) through `grade --roster` and `export
--format moodle`; then a student of a mistaken run is forgotten.

The class: two students named Jane Doe (1001 full marks, 1002 one task wrong), Bob (1003, full
marks, marked LATE by Canvas and two started days late), Ann (1004, on the roster, nothing
submitted), and 1 (a stray file, not on the roster). Policy: 10% of 12 points per day, cap 50%.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import built_once
from hostile_cases import ASSIGNMENT, Context
from lms_files import CANVAS_ROSTER, DUE, MOODLE_ROSTER, ON_TIME, TWO_DAYS_LATE

from jaxcourse import cli

ROOT = Path(__file__).resolve().parents[2]
JAXCOURSE = [sys.executable, "-m", "jaxcourse.cli"]
LIMITS = ["--cell-timeout", "60", "--notebook-timeout", "300", "--no-progress"]
POLICY = ["--due", DUE, "--late-penalty", "10", "--late-cap", "50"]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lms")]


def run(*args: str) -> str:
    """`jaxcourse grade` in its own process (it starts workers); the others in this one, through
    the same `cli.main` the command calls (an interpreter start each would double the test's time)."""
    if args[0] == "grade":
        done = subprocess.run([*JAXCOURSE, *args], cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done.stdout
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    assert code == 0, out.getvalue()[-3000:] + err.getvalue()[-3000:]
    return out.getvalue()


def _zip(path: Path, files: dict[str, tuple[bytes, tuple]]) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, (data, when) in files.items():
            zipped.writestr(zipfile.ZipInfo(name, when), data)
    return path


def _loop(base: Path) -> None:
    ctx = Context(ROOT, base / "course", base, 0)
    full = nbformat.writes(ctx.solved()).encode()
    wrong = nbformat.writes(ctx.with_answer("task-05-hamming-matrix", ctx.mistake("task-05-hamming-matrix"))).encode()
    (base / "canvas.csv").write_text(CANVAS_ROSTER)
    (base / "moodle.csv").write_text(MOODLE_ROSTER)
    canvas_zip = _zip(base / "canvas.zip", {
        "doejane_1001_9001_01_xor.ipynb": (full, ON_TIME),
        "doejane_1002_9002_01_xor.ipynb": (wrong, ON_TIME),
        "latebob_LATE_1003_9003_01_xor.ipynb": (full, TWO_DAYS_LATE),
        "stray_1_9999_notes.txt": (b"not a notebook", ON_TIME),
    })
    course = str(base / "course")
    out = {"canvas-grade": run("grade", ASSIGNMENT, str(canvas_zip), "--course-dir", course, "--roster",
                               str(base / "canvas.csv"), *POLICY, *LIMITS)}
    out["canvas-export"] = run("export", ASSIGNMENT, "--format", "canvas", "--course-dir", course, "-o",
                               str(base / "to-canvas.csv"))
    run("export", ASSIGNMENT, "--format", "csv", "--course-dir", course, "-o", str(base / "grades.csv"))
    run("export", ASSIGNMENT, "--format", "feedback-zip", "--course-dir", course, "-o", str(base / "canvas-feedback.zip"))
    moodle_zip = _zip(base / "moodle.zip", {
        "Jane Doe_1001_assignsubmission_file/01_xor.ipynb": (full, ON_TIME),
        "Jane Doe_1002_assignsubmission_file_01_xor.ipynb": (wrong, ON_TIME),
        # on time by the zip, two days late by the worksheet: the worksheet's word counts
        "Bob Late_1003_assignsubmission_file_/01_xor.ipynb": (full, ON_TIME),
    })
    out["moodle-grade"] = run("grade", ASSIGNMENT, str(moodle_zip), "--course-dir", course, "--roster",
                              str(base / "moodle.csv"), *LIMITS)
    run("export", ASSIGNMENT, "--format", "moodle", "--course-dir", course, "-o", str(base / "to-moodle.csv"))
    run("export", ASSIGNMENT, "--format", "feedback-zip", "--course-dir", course, "-o", str(base / "moodle-feedback.zip"))
    out["report"] = run("report", ASSIGNMENT, "--course-dir", course)
    out["forget"] = run("forget", ASSIGNMENT, "1", "--course-dir", course)
    (base / "out.json").write_text(json.dumps(out))


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    with built_once(tmp_path_factory, "lms-loop") as (base, build):
        if build:
            _loop(base)
    return base, json.loads((base / "out.json").read_text())


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text())))


def test_canvas_import_csv_has_every_roster_student_once_with_the_right_points(loop):
    base, _ = loop
    rows = _rows(base / "to-canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01 XOR (555)"]
    assert rows[1][0] == "Points Possible" and rows[1][-1] == "12"
    grades = {r[1]: r[-1] for r in rows[2:]}
    assert [r[1] for r in rows[2:]] == ["1001", "1002", "1003", "1004"], "each roster student once, by ID"
    assert grades == {"1001": "12", "1002": "11", "1003": "9.6", "1004": "0"}
    assert rows[2][:5] == ["Doe, Jane", "1001", "S1001", "jane.doe@uni.example", "Section A"]


def test_canvas_run_summary_names_the_late_the_absent_and_the_stranger(loop):
    _, out = loop
    summary = out["canvas-grade"]
    assert "1004 (Ann Absent): not submitted" in summary
    assert re.search(r"late: 1003 \(Bob Late\): 2 day\(s\).*-2\.4 points", summary), summary
    assert "not on the roster (graded, kept, not exported to the LMS): 1 (stray)" in summary
    assert "not on the roster, left out: 1" in out["canvas-export"]


def test_csv_export_has_lateness_and_one_column_per_task(loop):
    base, _ = loop
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO((base / "grades.csv").read_text()))}
    assert set(rows) == {"1", "1001", "1002", "1003", "1004"}
    assert (rows["1003"]["late_days"], rows["1003"]["penalty"], rows["1003"]["grade"]) == ("2", "2.4", "9.6")
    assert rows["1002"]["task-05-hamming-matrix"] == "0" and rows["1002"]["task-01-forward"] == "2"
    assert rows["1004"]["submitted"] == "no" and rows["1"]["on_roster"] == "no"


def test_canvas_feedback_zip_names_read_back_as_canvas_does(loop):
    base, _ = loop
    names = zipfile.ZipFile(base / "canvas-feedback.zip").namelist()
    # canvas-lms Assignment#infer_comment_context_from_filename: first two all-digit `_` parts
    found = {tuple([p for p in n.split("_") if p.isdigit()][:2]) for n in names}
    assert found == {("1001", "9001"), ("1002", "9002"), ("1003", "9003")}


def test_moodle_worksheet_gets_grades_scaled_to_its_maximum_and_comments(loop):
    base, out = loop
    assert "nothing changed" in out["moodle-grade"], "same ids, same notebooks: nobody graded again"
    rows = _rows(base / "to-moodle.csv")
    assert rows[0] == MOODLE_ROSTER.splitlines()[0].split(",")
    by_id = {r[0]: r for r in rows[1:]}
    assert list(by_id) == ["Participant 1001", "Participant 1002", "Participant 1003", "Participant 1004"]
    grades = {k: r[4] for k, r in by_id.items()}
    assert grades == {"Participant 1001": "100.00", "Participant 1002": "91.67", "Participant 1003": "80.00",
                      "Participant 1004": "0.00"}
    assert by_id["Participant 1003"][9].startswith("9.6/12: task-01-forward 2/2")
    assert "2 day(s) late, -2.4" in by_id["Participant 1003"][9]
    assert by_id["Participant 1004"][9] == "not submitted"
    assert [r[8] for r in rows[1:]] == ["-"] * 4, "Last modified (grade) kept as Moodle wrote it"


def test_moodle_feedback_zip_names_read_back_as_moodle_does(loop):
    base, _ = loop
    names = zipfile.ZipFile(base / "moodle-feedback.zip").namelist()
    # assignfeedback_file importziplib: explode('_', name, 5): name, participant id, plugin type, plugin
    parts = [n.split("_", 4) for n in names]
    assert {(p[1], p[2], p[3]) for p in parts} == {(i, "assignfeedback", "file") for i in ("1001", "1002", "1003")}


def test_the_gradebook_has_names_and_emails_for_formgrader(loop):
    from nbgrader.api import Gradebook

    base, _ = loop
    with Gradebook(f"sqlite:///{base / 'course' / 'gradebook.db'}") as book:
        people = {s.id: (s.first_name, s.last_name, s.email) for s in book.students}
    assert people["1004"] == ("Ann", "Absent", "ann@uni.example")
    assert people["1002"] == ("Jane", "Doe", "jdoe2@uni.example")


def test_a_forgotten_student_is_gone_and_the_report_counts_only_the_class(loop):
    from nbgrader.api import Gradebook

    base, out = loop
    assert "forgot 1" in out["forget"]
    state = json.loads((base / "course" / ".jaxcourse" / f"{ASSIGNMENT}.json").read_text())
    assert "1" not in state["students"]
    with Gradebook(f"sqlite:///{base / 'course' / 'gradebook.db'}") as book:
        assert "1" not in {s.id for s in book.students}
    page = (base / "course" / f"report-{ASSIGNMENT}.html").read_text()
    assert "4 students, 3 submitted" in page, "the stray of the Canvas run is not in the Moodle run"
    assert "1004 (Ann Absent)" in page.split("<h2>Did not submit</h2>")[1].split("<h2>")[0]
    assert "<td>1003 (Bob Late)</td><td>2024-02-02T10:00</td><td>2</td>" in page
