"""Rosters as the LMSs export them, recognised by their header (no grading: fast)."""

from datetime import datetime

import pytest
from lms_files import CANVAS_ROSTER, MOODLE_ROSTER, PLAIN_ROSTER

from jaxcourse.course.assignments import CourseError
from jaxcourse.grading.intake import roster


def test_canvas_gradebook_export():
    found = roster.parse(CANVAS_ROSTER)
    assert found.kind == "canvas"
    assert list(found.people) == ["1001", "1002", "1003", "1004"], "the Points Possible row is not a student"
    assert found.people["1001"].name == found.people["1002"].name == "Jane Doe", "same name, two ids"
    assert (found.people["1003"].first, found.people["1003"].last) == ("Bob", "Late")
    assert found.people["1001"].email == "jane.doe@uni.example"
    assert found.identity_columns() == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def test_canvas_export_without_sis_columns_and_with_a_muted_row():
    text = "Student,ID,Section,XOR (9)\n,,,Muted\n    Points Possible,,,5\n\"Doe, Jane\",7,S,\n"
    found = roster.parse(text)
    assert list(found.people) == ["7"]
    assert found.identity_columns() == ["Student", "ID", "Section"]


def test_moodle_grading_worksheet():
    found = roster.parse(MOODLE_ROSTER)
    assert found.kind == "moodle"
    assert list(found.people) == ["1001", "1002", "1003", "1004"], "the id is the participant number"
    assert found.people["1003"].submitted_at == datetime(2024, 2, 2, 10, 0)
    assert found.people["1004"].submitted_at is None
    assert found.people["1002"].email == "jdoe2@uni.example"


def test_plain_csv_with_a_bom():
    found = roster.parse("\ufeff" + PLAIN_ROSTER)
    assert found.kind == "csv"
    assert {p.id: p.name for p in found.people.values()} == {"ada": "Ada Lovelace", "bob": "Bob Smith"}
    assert found.people["bob"].email == ""


def test_names_and_emails_stay_on_one_line():
    found = roster.parse('id,name,email\nada,"Ada\nLovelace\x1b[31m",ada@uni.example\x07\n')
    person = found.people["ada"]
    assert (person.name, person.email) == ("Ada Lovelace [31m", "ada@uni.example"), "no control character kept"


@pytest.mark.parametrize("text, problem", [
    ("", "empty roster"),
    ("name,score\nada,3\n", "not a roster"),
    ("id,name\nada,A\nada,B\n", "appears twice"),
    ("id,name\n,Nobody\n", "no student id"),
])
def test_bad_rosters_say_why(text, problem):
    with pytest.raises(CourseError, match=problem):
        roster.parse(text)


def test_a_missing_roster_file(tmp_path):
    with pytest.raises(CourseError, match="does not exist"):
        roster.read(tmp_path / "nope.csv")
