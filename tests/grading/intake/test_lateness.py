"""The late policy: days late from the LMS's times and markers, and what they cost."""

from datetime import datetime

import pytest

from jaxcourse.course.assignments import CourseError
from jaxcourse.grading.intake import lateness

POLICY = lateness.policy("2024-01-31T23:59", 10, 25)


@pytest.mark.parametrize("submitted, marker, days", [
    (datetime(2024, 1, 31, 23, 0), None, 0),
    (datetime(2024, 2, 1, 0, 30), None, 1),
    (datetime(2024, 2, 2, 10, 0), None, 2),
    (None, None, 0),
    (None, True, 1),  # Canvas said LATE, no time known: one started day
    (datetime(2024, 2, 3, 0, 0), True, 3),
    (datetime(2024, 2, 3, 0, 0), False, 0),  # Canvas said on time: its word decides
])
def test_days_late(submitted, marker, days):
    assert lateness.days_late(POLICY, submitted, marker) == days


def test_penalty_per_day_with_a_cap():
    assert lateness.penalty(POLICY, 1, 12) == pytest.approx(1.2)
    assert lateness.penalty(POLICY, 2, 12) == pytest.approx(2.4)
    assert lateness.penalty(POLICY, 9, 12) == pytest.approx(3.0), "capped at 25%"
    assert lateness.final(1.0, 3.0) == 0.0, "never below zero"


def test_no_due_date_nothing_is_late():
    assert lateness.days_late(lateness.Policy(), datetime(2030, 1, 1), True) == 0
    assert "nothing is late" in lateness.Policy().describe()


def test_a_date_alone_is_due_at_the_end_of_the_day():
    assert lateness.policy("2024-01-31", 5, None).due == "2024-01-31T23:59:59"


@pytest.mark.parametrize("due, per_day, cap, problem", [
    ("yesterday", None, None, "not a date"),
    (None, 10, None, "need --due"),
    ("2024-01-31", 150, None, "between 0 and 100"),
    ("2024-01-31", 10, -1, "between 0 and 100"),
])
def test_bad_policies(due, per_day, cap, problem):
    with pytest.raises(CourseError, match=problem):
        lateness.policy(due, per_day, cap)


def test_due_none_clears_a_kept_due_date():
    assert lateness.policy("none", None, None) == lateness.Policy()
    assert lateness.policy("2024-01-31", None, None).due == "2024-01-31T23:59:59"
