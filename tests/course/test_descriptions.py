"""Every hidden check says what it checks, in words a student can act on when it fails."""

import re
from pathlib import Path

from jaxcourse.course import assignments
from jaxcourse.course.descriptions import undescribed_hidden_checks, undescribed_in

ROOT = Path(__file__).resolve().parents[2]


def test_a_check_without_words_of_its_own_is_refused():
    code = """
expect_close(f(x), want, _where)
expect_close(f(x), want)
expect_equal(pascal(_n), want, f"pascal({_n})")
expect_true(ok, f"{_where}")
expect_close(f(x), want, f"safe_norm of {_n} rows (two of them zero)")
expect_true(ok, message="x after the call is left as it was")
expect_shape(f(x), (3,), name="numerical_grad for 3 inputs")
"""
    refused = undescribed_hidden_checks(code)
    assert [line.split("(")[0] for line in refused] == ["expect_close"] * 2 + ["expect_equal", "expect_true"]


def test_every_hidden_check_of_the_course_is_described():
    assert undescribed_in(ROOT, assignments.assignment_names(ROOT)) == []


def test_every_kept_mistake_names_a_chapter_section_that_exists():
    import nbformat

    headings: dict[str, set[str]] = {}
    for name in assignments.assignment_names(ROOT):
        for mistake in assignments.mistakes(ROOT, name):
            assert mistake.see, f"{mistake.path}: needs a '# see: <chapter> §<section>' line"
            chapter, _, section = mistake.see.partition(" §")
            if chapter not in headings:
                notebook = nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4)
                headings[chapter] = {line.split()[1].rstrip(".") for c in notebook.cells if c.cell_type == "markdown"
                                     for line in c.source.splitlines() if re.match(r"#{2,3} \d", line)}
            assert section in headings[chapter], f"{mistake.path}: no section {section} in chapters/{chapter}"
