"""`jaxcourse export`: grades and feedback back into the LMS, from what `jaxcourse grade` kept.

Nothing is regraded: the grader's state file (scores, lateness, names), the roster kept from
`grade --roster` (or one given here) and nbgrader's feedback pages are all it reads. The late
policy given to `grade` is applied: the exported grade is the score less the late penalty.

- `canvas`: Canvas's gradebook import CSV (Grades > Import). Shaped for canvas-lms
  `GradebookImporter` (app/models/gradebook_importer.rb): the roster's identity columns (`Student,
  ID[, SIS User ID, SIS Login ID[, Integration ID]], Section`, matched by `ID`, the Canvas user
  id), the `Points Possible` row, then one column for the assignment, named as in the roster's
  export (`Title (assignment id)`) so the importer finds the existing assignment; a new title makes
  Canvas offer to create one. Every roster student once.
- `moodle`: the grading worksheet as Moodle wrote it, with `Grade` filled and `Feedback
  comments` set to a one-line summary, for "Upload grading worksheet"; moodle
  `assignfeedback_offline` finds rows by `Identifier` (`Participant N`), reads `Grade`, and skips
  a row whose `Last modified (grade)` is older than Moodle's own grade (kept as downloaded).
- `csv`: one row per student: id, name, email, lateness, score, penalty, grade, one column per task.
- `feedback-zip`: each student's feedback page, named for the LMS: Moodle's "Upload multiple
  feedback files in a zip" (assignfeedback_file importziplib: `Full Name_<participant
  id>_assignfeedback_file_<file>`, underscores in the name replaced by spaces as Moodle's download
  does); Canvas's "Re-upload submissions" (canvas-lms `Assignment#infer_comment_context_from_
  filename`: the first two all-digit `_` parts are the user id and the submission's attachment
  id, both from the downloaded file name), so `<user id>_<attachment id>_feedback-....html`;
  otherwise `<student>/<file>.html`.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from jaxcourse.course import assignments
from jaxcourse.course.assignments import CourseError
from jaxcourse.grading.intake import lateness
from jaxcourse.grading.intake import roster as rosters
from jaxcourse.grading.out import gradebook
from jaxcourse.grading.out.summary import NOT_SUBMITTED, Student

FORMATS = ("canvas", "moodle", "csv", "feedback-zip")


@dataclass
class Row:
    """One student's grade as exported."""

    id: str
    record: Student
    tasks: dict[str, float] = field(default_factory=dict)

    @property
    def grade(self) -> float:
        return lateness.final(self.record.score, self.record.penalty)


@dataclass
class Graded:
    assignment: str
    max_score: float
    tasks: list
    rows: dict[str, Row]
    roster: rosters.Roster | None
    course: Path


def load(root: Path, assignment: str, course: Path, roster: Path | None = None) -> Graded:
    assignments.assignment_folder(root, assignment)
    state = gradebook.load_state(course, assignment)
    if not state["students"]:
        raise CourseError(f"no grading run of {assignment} in {course}: run `jaxcourse grade` first")
    enrolled = rosters.read(roster) if roster else gradebook.kept_roster(course, assignment)
    tasks = assignments.tasks(root, assignment)
    present = state.get("present") or sorted(state["students"])
    rows = {}
    for student in present:
        record = Student(**state["students"].get(student, {"zero_reason": NOT_SUBMITTED}))
        rows[student] = Row(student, record, {t.grade_id: sum(record.cells.get(c, 0.0) for c in t.tests)
                                              for t in tasks})
    return Graded(assignment, sum(t.points for t in tasks), tasks, rows, enrolled, course)


def _number(value: float, decimals: int = 2) -> str:
    text = f"{round(value, decimals):.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _normalized(title: str) -> str:
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\s*\(\d+\)\s*$", "", title).lower())


def _write(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def summary_line(graded: Graded, row: Row) -> str:
    """`9.5/12: task-01-forward 2/2, ...; 1 day late, -1.2`: what Moodle's comment says."""
    record = row.record
    if record.zero_reason == NOT_SUBMITTED:
        return "not submitted"
    parts = [f"{_number(row.grade)}/{_number(graded.max_score)}: "
             + ", ".join(f"{t.grade_id} {_number(row.tasks[t.grade_id])}/{_number(t.points)}" for t in graded.tasks)]
    if record.late_days:
        parts.append(f"{record.late_days} day(s) late, -{_number(record.penalty)}")
    return "; ".join(parts)


def _scale(graded: Graded, lms_max: float | None, lines: list[str]) -> float:
    if not lms_max or abs(lms_max - graded.max_score) < 1e-9:
        return 1.0
    lines.append(f"grades scaled from {_number(graded.max_score)} to {_number(lms_max)} points "
                 "(the LMS's maximum for this assignment)")
    return lms_max / graded.max_score


def _strangers(graded: Graded, lines: list[str]) -> None:
    people = graded.roster.people if graded.roster else {}
    strangers = sorted(s for s in graded.rows if s not in people)
    if strangers:
        lines.append(f"not on the roster, left out: {', '.join(strangers)}")


def canvas(graded: Graded, column: str | None = None) -> tuple[str, list[str]]:
    roster = graded.roster
    if roster is None or roster.kind != "canvas":
        raise CourseError("--format canvas needs Canvas's gradebook export as the roster "
                          "(--roster here, or given to `jaxcourse grade --roster`)")
    lines: list[str] = []
    identity = roster.identity_columns()
    candidates = [c for c in roster.header[len(identity):]
                  if not any(word in c for word in rosters.CANVAS_NON_ASSIGNMENT)]
    if column is None:
        matches = [c for c in candidates if _normalized(c) == _normalized(graded.assignment)]
        if len(matches) > 1:
            raise CourseError(f"several Canvas columns look like {graded.assignment}: {', '.join(matches)}; "
                              "choose one with --column")
        column = matches[0] if matches else graded.assignment
        if not matches:
            lines.append(f"no column for {graded.assignment} in the roster: Canvas will offer to create an "
                         f"assignment {column!r} (--column 'Title (id)' for an existing one)")
    possible = None
    if column in roster.header:
        index = roster.header.index(column)
        for row in roster.rows:
            if row and "Points Possible" in row[0] and index < len(row):
                try:
                    possible = float(row[index])
                except ValueError:
                    possible = None
    factor = _scale(graded, possible, lines)
    out = [identity + [column], ["Points Possible"] + [""] * (len(identity) - 1) + [_number(possible or graded.max_score)]]
    for student, index in roster.row_of.items():
        cells = (roster.rows[index] + [""] * len(identity))[:len(identity)]
        row = graded.rows.get(student)
        out.append(cells + [_number((row.grade if row else 0.0) * factor)])
    _strangers(graded, lines)
    return _write(out), lines


def moodle(graded: Graded) -> tuple[str, list[str]]:
    roster = graded.roster
    if roster is None or roster.kind != "moodle":
        raise CourseError("--format moodle needs Moodle's grading worksheet as the roster "
                          "(--roster here, or given to `jaxcourse grade --roster`)")
    lines: list[str] = []
    header = list(roster.header) + ([rosters.MOODLE_FEEDBACK] if rosters.MOODLE_FEEDBACK not in roster.header else [])
    grade_col, comment_col = header.index(rosters.MOODLE_GRADE), header.index(rosters.MOODLE_FEEDBACK)
    maxima = set()
    if "Maximum Grade" in header:
        for row in roster.rows:
            try:
                maxima.add(float(row[header.index("Maximum Grade")].replace(",", ".")))
            except (ValueError, IndexError):
                pass
    factor = _scale(graded, maxima.pop() if len(maxima) == 1 else None, lines)
    out = [header]
    for student, index in roster.row_of.items():
        cells = (roster.rows[index] + [""] * len(header))[:len(header)]
        row = graded.rows.get(student) or Row(student, Student(zero_reason=NOT_SUBMITTED))
        cells[grade_col] = f"{row.grade * factor:.2f}"
        cells[comment_col] = summary_line(graded, row)
        out.append(cells)
    _strangers(graded, lines)
    return _write(out), lines


def plain(graded: Graded) -> tuple[str, list[str]]:
    out = [["id", "name", "email", "on_roster", "submitted", "submitted_at", "late_days", "score", "penalty",
            "grade", *[t.grade_id for t in graded.tasks]]]
    for student, row in graded.rows.items():
        r = row.record
        out.append([student, r.name, r.email, {"on": "yes", "off": "no"}.get(r.roster, ""),
                    "no" if r.zero_reason == NOT_SUBMITTED else "yes", r.submitted_at, str(r.late_days),
                    _number(r.score), _number(r.penalty), _number(row.grade),
                    *[_number(row.tasks[t.grade_id]) for t in graded.tasks]])
    return _write(out), []


def _feedback_name(graded: Graded, student: str, row: Row, page: Path) -> str | None:
    stem = re.sub(r"[^A-Za-z0-9.-]", "-", page.stem)
    roster = graded.roster
    if roster is not None and roster.kind == "moodle":
        # Moodle's download writes str_replace('_', ' ', fullname); the importer splits on '_'
        name = (row.record.name or "Participant").replace("_", " ").replace("/", " ")
        return f"{name}_{student}_assignfeedback_file_{stem}.html"
    if (roster is not None and roster.kind == "canvas") or row.record.file_id:
        if not row.record.file_id:
            return None
        return f"{student}_{row.record.file_id}_feedback-{stem}.html"
    return f"{student}/{page.name}"


def feedback_zip(graded: Graded, output: Path) -> list[str]:
    lines, count = [], 0
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for student, row in graded.rows.items():
            pages = sorted((graded.course / "feedback" / student / graded.assignment).glob("*.html"))
            if not pages:
                continue
            for page in pages:
                name = _feedback_name(graded, student, row, page)
                if name is None:
                    lines.append(f"{student}: no Canvas attachment id in the submission's file name, "
                                 "feedback left out")
                    continue
                archive.write(page, name)
                count += 1
    lines.insert(0, f"{count} feedback page(s)")
    return lines


def export(root: Path, assignment: str, course: Path, fmt: str, roster: Path | None = None,
           output: Path | None = None, column: str | None = None) -> tuple[Path, list[str]]:
    """Write the export; return where, and what the instructor should know (one line each)."""
    if fmt not in FORMATS:
        raise CourseError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    graded = load(root, assignment, Path(course), roster)
    suffix = "zip" if fmt == "feedback-zip" else "csv"
    output = Path(output or Path(course) / f"export-{assignment}-{fmt}.{suffix}")
    if not output.parent.is_dir():
        raise CourseError(f"{output.parent} does not exist")
    if fmt == "feedback-zip":
        return output, feedback_zip(graded, output)
    text, lines = {"canvas": lambda: canvas(graded, column), "moodle": lambda: moodle(graded),
                   "csv": lambda: plain(graded)}[fmt]()
    output.write_text(text)
    return output, [f"{len(text.splitlines()) - 1} row(s)"] + lines
