"""Gradescope's "Export Submissions" metadata, read (the whole zip through `jaxcourse grade`:
tests/grading/test_autograder.py, `graded_here`)."""

from datetime import datetime

import pytest

from jaxcourse.grading.intake import downloads, gradescope_export

METADATA = b"""\
submission_7:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1001'
    :email: ada@example.edu
  - :name: Charles Babbage
    :sid: ''
    :email: charles@example.edu
  :created_at: 2024-01-31 12:00:00.000000000 +00:00
  :score: !ruby/object:BigDecimal 18:0.7e1
  :history: []
submission_8:
  :submitters: []
  :created_at: not a time
"""


def test_each_submitter_is_their_student_id_else_their_email_else_the_folder():
    found = gradescope_export.submitters(METADATA)
    assert [s.student for s in found["submission_7"]] == ["1001", "charles@example.edu"]
    assert found["submission_7"][0].name == "Ada Lovelace"
    assert found["submission_7"][0].submitted_at == datetime.fromisoformat("2024-01-31T12:00:00+00:00").astimezone().replace(tzinfo=None)
    assert [(s.student, s.submitted_at) for s in found["submission_8"]] == [("submission_8", None)]


def test_an_export_whose_metadata_is_not_yaml_is_refused_in_one_line(tmp_path):
    folder = tmp_path / "assignment_1_export"
    (folder / "submission_1").mkdir(parents=True)
    (folder / "submission_1" / "01_xor.ipynb").write_text("{}")
    (folder / "submission_metadata.yml").write_text("submission_1: [unclosed")
    with pytest.raises(downloads.SubmissionError, match="submission_metadata.yml: not readable YAML"):
        downloads.collect(folder)


def test_a_folder_the_metadata_does_not_name_is_graded_under_its_own_name(tmp_path):
    folder = tmp_path / "export"
    for name in ("submission_7", "submission_9"):
        (folder / name).mkdir(parents=True)
        (folder / name / "01_xor.ipynb").write_text("{}")
    (folder / "submission_metadata.yml").write_bytes(METADATA)
    students, orphans = downloads.collect(folder)
    assert set(students) == {"1001", "charles@example.edu", "submission_9"} and not orphans
    assert students["1001"].files == students["charles@example.edu"].files == {"01_xor.ipynb": b"{}"}
