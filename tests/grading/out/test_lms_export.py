"""`jaxcourse export` formats from a graded class, without grading it again: a plain CSV roster, and
Canvas's own maximum for the assignment."""

from __future__ import annotations

import csv
import io
import zipfile

from lms_files import CANVAS_ROSTER, PLAIN_ROSTER

from jaxcourse.grading.intake import roster as rosters
from jaxcourse.grading.out import lms_export
from jaxcourse.grading.out.summary import NOT_SUBMITTED, Student


class _Task:
    def __init__(self, grade_id, points):
        self.grade_id, self.points, self.tests = grade_id, points, {f"test-{grade_id[5:]}": points}


TASKS = [_Task("task-01-forward", 4), _Task("task-02-loss", 8)]


def _graded(tmp_path, roster_text, name, records) -> lms_export.Graded:
    (tmp_path / name).write_text(roster_text)
    rows = {s: lms_export.Row(s, r, {"task-01-forward": min(r.score, 4), "task-02-loss": max(0, r.score - 4)})
            for s, r in records.items()}
    return lms_export.Graded("01_xor", 12.0, TASKS, rows, rosters.read(tmp_path / name), tmp_path)


def _page(tmp_path, student):
    page = tmp_path / "feedback" / student / "01_xor" / "01_xor.html"
    page.parent.mkdir(parents=True)
    page.write_text(f"<p>{student}</p>")


def test_plain_roster_csv_and_feedback_zip(tmp_path):
    graded = _graded(tmp_path, PLAIN_ROSTER, "class.csv", {
        "ada": Student(score=12.0, name="Ada Lovelace", roster="on", late_days=1, penalty=1.2),
        "bob": Student(zero_reason=NOT_SUBMITTED, name="Bob Smith", roster="on")})
    text, _ = lms_export.plain(graded)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["id"], r["submitted"], r["grade"], r["late_days"]) for r in rows] == [
        ("ada", "yes", "10.8", "1"), ("bob", "no", "0", "0")]
    assert rows[0]["task-01-forward"] == "4" and rows[0]["task-02-loss"] == "8"
    _page(tmp_path, "ada")
    lines = lms_export.feedback_zip(graded, tmp_path / "back.zip")
    assert zipfile.ZipFile(tmp_path / "back.zip").namelist() == ["ada/01_xor.html"] and lines == ["1 feedback page(s)"]


def test_canvas_grades_are_scaled_to_canvas_points_possible(tmp_path):
    twenty_four = CANVAS_ROSTER.replace(",12.00,10.00,", ",24.00,10.00,")
    graded = _graded(tmp_path, twenty_four, "canvas.csv", {
        "1001": Student(score=12.0, roster="on"), "1002": Student(score=9.0, roster="on"),
        "1003": Student(score=12.0, roster="on", late_days=2, penalty=2.4)})
    text, lines = lms_export.canvas(graded)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][-1] == "01 XOR (555)" and rows[1][-1] == "24"
    assert {r[1]: r[-1] for r in rows[2:]} == {"1001": "24", "1002": "18", "1003": "19.2", "1004": "0"}
    assert any("scaled from 12 to 24" in line for line in lines)
