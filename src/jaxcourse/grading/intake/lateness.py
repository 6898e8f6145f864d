"""Late work: when each student submitted, how late that is, and what it costs.

The policy is the instructor's, given to `jaxcourse grade`: `--due` (a date and time), and
`--late-penalty P` percent of the assignment's points per started day late, at most
`--late-cap C` percent (default 100: a late submission can lose everything, never go below 0).
Without `--due` nothing is late; without `--late-penalty` lateness is shown but costs nothing.

When a student submitted comes from what the LMS says, best first: the `Last modified
(submission)` column of a Moodle worksheet given as `--roster`, the time in a Blackboard file
name, the file's time inside the LMS zip. Canvas's zip has a `LATE` marker in the name, and Canvas's word
decides: a marked student is late (one day when no later time is known), an unmarked one is not. Times without a time
zone are taken as the due date's (Canvas and Moodle write the zip in the server's local time).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime

from jaxcourse.course.assignments import CourseError


@dataclass(frozen=True)
class Policy:
    due: str = ""  # ISO date and time, naive local
    per_day: float = 0.0  # percent of the points lost per started day late
    cap: float = 100.0  # at most this percent lost

    def describe(self) -> str:
        if not self.due:
            return "no due date: nothing is late"
        cost = (f"{self.per_day:g}% of the points per started day late, at most {self.cap:g}%"
                if self.per_day else "no penalty")
        return f"due {self.due}; {cost}"

    def to_dict(self) -> dict:
        return asdict(self)


def parse_due(text: str) -> datetime:
    """`2024-01-31`, `2024-01-31 23:59`, `2024-01-31T23:59:00+01:00`: a naive local time."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CourseError(f"--due {text!r} is not a date and time (use e.g. 2024-01-31T23:59)") from None
    if when.tzinfo is not None:
        when = when.astimezone().replace(tzinfo=None)
    if len(text.strip()) == 10:  # a date alone: due at the end of that day
        when = when.replace(hour=23, minute=59, second=59)
    return when


def policy(due: str | None, per_day: float | None, cap: float | None) -> Policy:
    """`due` "none" clears a due date kept from an earlier run: nothing is late."""
    if due is not None and due.strip().lower() == "none":
        due = ""
    if (per_day or cap is not None) and not due:
        raise CourseError("--late-penalty and --late-cap need --due")
    if per_day is not None and not 0 <= per_day <= 100:
        raise CourseError(f"--late-penalty {per_day:g} must be a percent between 0 and 100")
    if cap is not None and not 0 <= cap <= 100:
        raise CourseError(f"--late-cap {cap:g} must be a percent between 0 and 100")
    return Policy(parse_due(due).isoformat(timespec="seconds") if due else "", per_day or 0.0,
                  100.0 if cap is None else cap)


def days_late(policy: Policy, submitted: datetime | None, marker: bool | None = None) -> int:
    """Started days after the due date (0: on time, or no time known). `marker`: the LMS's own
    verdict where it gives one (Canvas: True late, False on time; its zip's file times may be
    when the zip was made, so they only count how late a late one is); None where it gives none."""
    if not policy.due:
        return 0
    due = datetime.fromisoformat(policy.due)
    days = max(1, math.ceil((submitted - due).total_seconds() / 86400)) if submitted and submitted > due else 0
    if marker is None:
        return days
    return max(days, 1) if marker else 0


def penalty(policy: Policy, days: int, max_score: float) -> float:
    """Points lost for `days` late."""
    return round(max_score * min(policy.cap, policy.per_day * days) / 100, 4) if days else 0.0


def final(score: float, lost: float) -> float:
    return round(max(0.0, score - lost), 4)
