"""What `check-release` refuses: anything generated from solutions/ or the kept mistakes that no
longer matches them, and hidden checks a student could not read when they fail."""

from __future__ import annotations

from pathlib import Path

from jaxcourse.course import assignments, descriptions, release
from jaxcourse.grading.verdicts import behaviour
from jaxcourse.quality import recording


def problems(root: Path, names: list[str] | None = None) -> list[str]:
    """One line per problem; [] when everything matches."""
    chosen = names or assignments.assignment_names(root)
    differences = release.release_differences(root, names)
    if differences:
        differences.append("exercises/ is out of date: run `make release` and commit it")
    stale = behaviour.stale(root, chosen)
    table = [] if stale else recording.publish_drift(root)
    return differences + descriptions.undescribed_in(root, chosen) + stale + table
