"""Who is enrolled: the roster file the instructor already has, recognised by its header.

- Canvas's gradebook export (Grades > Export): `Student, ID, SIS User ID, SIS Login ID, Section,
  <assignments>...`, a `Points Possible` row under the header (and, in some exports, a
  `Muted` / `Manual Posting` row). Checked against canvas-lms `GradebookImporter`
  (app/models/gradebook_importer.rb), the code that reads the same file back: the header is valid
  when column 0 contains `Student` and column 1 `ID`; the identity columns are `Student, ID`,
  then optionally `SIS User ID, SIS Login ID[, Integration ID][, Root Account]` (or `SIS Login
  ID` alone), and they end with `Section`; a row whose first cell contains `Points Possible` is
  not a student; a student is found by `ID` (the Canvas user id). `Student` is Canvas's
  sortable name, `Last, First`.
- Moodle's assignment grading worksheet (View all submissions > Download grading worksheet):
  `Identifier, Full name, Email address, Status, Grade, Maximum Grade, Grade can be changed,
  Last modified (submission), Last modified (grade), Feedback comments`, each row's Identifier
  `Participant 123`. Checked against moodle `assignfeedback_offline` (importgradeslib.php:
  columns found by the `recordid`, `grade` and `lastmodifiedgrade` strings, `Identifier`,
  `Grade`, `Last modified (grade)` in English; the id is the Identifier after the `hiddenuser`
  string `Participant`), which reads the worksheet back.
- A plain CSV: `id,name[,email]`.

The LMS id (Canvas user id, Moodle participant id) is the student id everywhere in the grader.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from jaxcourse.course.assignments import CourseError
from jaxcourse.grading.intake.downloads import one_line

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Root Account", "Section")
CANVAS_NON_ASSIGNMENT = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points",
                         "Final Grade", "Override Score", "Override Grade", "Override Status")
MOODLE_ID, MOODLE_NAME, MOODLE_EMAIL = "Identifier", "Full name", "Email address"
MOODLE_GRADE, MOODLE_FEEDBACK = "Grade", "Feedback comments"
MOODLE_SUBMITTED = "Last modified (submission)"
# Moodle's `strftimedatetime` (core langconfig), the worksheet's dates: "Tuesday, 30 January 2024, 11:59 PM"
MOODLE_DATES = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M")


@dataclass
class Person:
    id: str
    name: str = ""
    email: str = ""
    first: str = ""
    last: str = ""
    submitted_at: datetime | None = None  # Moodle's worksheet says when they last submitted


@dataclass
class Roster:
    kind: str  # canvas, moodle or csv
    header: list[str]
    rows: list[list[str]]  # every row of the file as read, header excluded
    people: dict[str, Person] = field(default_factory=dict)
    row_of: dict[str, int] = field(default_factory=dict)  # student id -> index in rows

    def identity_columns(self) -> list[str]:
        """Canvas: the columns up to and including `Section`, as the importer counts them."""
        if self.kind != "canvas":
            return list(self.header)
        end = self.header.index("Section") + 1 if "Section" in self.header else 2
        return self.header[:end]


def _split_name(name: str, sortable: bool) -> tuple[str, str]:
    if sortable and "," in name:
        last, first = (p.strip() for p in name.split(",", 1))
        return first, last
    parts = name.split()
    return (" ".join(parts[:-1]), parts[-1]) if len(parts) > 1 else (name, "")


def _moodle_time(text: str) -> datetime | None:
    for form in MOODLE_DATES:
        try:
            return datetime.strptime(text.strip(), form)
        except ValueError:
            continue
    return None


def parse(text: str, source: str = "roster") -> Roster:
    rows = [r for r in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if any(c.strip() for c in r)]
    if not rows:
        raise CourseError(f"{source}: empty roster")
    header = [c.strip() for c in rows[0]]
    body = rows[1:]
    if len(header) > 3 and "Student" in header[0] and "ID" in header[1]:
        return _canvas(header, body, source)
    if MOODLE_ID in header and MOODLE_NAME in header:
        return _moodle(header, body, source)
    lowered = [c.lower() for c in header]
    if lowered[:2] == ["id", "name"]:
        return _plain(header, body, source)
    raise CourseError(f"{source}: not a roster this grader knows (Canvas gradebook export starting "
                      f"'Student,ID', Moodle grading worksheet with 'Identifier', or 'id,name[,email]'); "
                      f"header is {','.join(header[:5])}")


def _add(roster: Roster, index: int, person: Person, source: str) -> None:
    # names and emails go into nbgrader's gradebook and grades.csv: a newline would split a row
    person = replace(person, name=one_line(person.name), email=one_line(person.email),
                     first=one_line(person.first), last=one_line(person.last))
    if not person.id:
        raise CourseError(f"{source}: row {index + 2} has no student id")
    if person.id in roster.people:
        raise CourseError(f"{source}: student id {person.id} appears twice")
    roster.people[person.id] = person
    roster.row_of[person.id] = index


def _canvas(header: list[str], body: list[list[str]], source: str) -> Roster:
    roster = Roster("canvas", header, body)
    email_col = header.index("SIS Login ID") if "SIS Login ID" in header else None
    for index, row in enumerate(body):
        first_cell = row[0] if row else ""
        if "Points Possible" in first_cell or all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c or "", re.I)
                                                   for c in row):
            continue
        name = first_cell.strip()
        first, last = _split_name(name, sortable=True)
        login = row[email_col].strip() if email_col is not None and email_col < len(row) else ""
        person = Person(row[1].strip() if len(row) > 1 else "", f"{first} {last}".strip() or name,
                        login if "@" in login else "", first, last)
        _add(roster, index, person, source)
    return roster


def _moodle(header: list[str], body: list[list[str]], source: str) -> Roster:
    roster = Roster("moodle", header, body)
    col = {name: header.index(name) for name in header}

    def cell(row, name):
        return row[col[name]].strip() if name in col and col[name] < len(row) else ""

    for index, row in enumerate(body):
        match = re.search(r"(\d+)\s*$", cell(row, MOODLE_ID))
        name = cell(row, MOODLE_NAME)
        first, last = _split_name(name, sortable=False)
        person = Person(match.group(1) if match else "", name, cell(row, MOODLE_EMAIL), first, last,
                        _moodle_time(cell(row, MOODLE_SUBMITTED)))
        _add(roster, index, person, source)
    return roster


def _plain(header: list[str], body: list[list[str]], source: str) -> Roster:
    roster = Roster("csv", header, body)
    for index, row in enumerate(body):
        cells = [c.strip() for c in row] + ["", "", ""]
        first, last = _split_name(cells[1], sortable="," in cells[1])
        _add(roster, index, Person(cells[0], cells[1], cells[2] if len(header) > 2 else "", first, last), source)
    return roster


def read(path: Path) -> Roster:
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"roster {path} does not exist")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_bytes().decode("latin-1")
    return parse(text, str(path))
