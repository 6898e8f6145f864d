"""Plain `nbgrader autograde`: the baseline that `jaxcourse validate` and the grading bench compare with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from jaxcourse.course.release import nbgrader


@dataclass
class Scores:
    """Per-student, per-test-cell scores and totals read back from nbgrader's gradebook."""

    cells: dict[str, dict[str, float]]
    totals: dict[str, float]
    max_score: float


def autograde(course: Path, name: str, submissions: dict[str, dict[str, nbformat.NotebookNode]],
              env: dict[str, str] | None = None) -> Scores:
    """Autograde {student: {notebook file: notebook}} in a `course` made by `generate`."""
    from nbgrader.api import Gradebook

    for student, notebooks in submissions.items():
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True)
        for filename, notebook in notebooks.items():
            nbformat.write(notebook, folder / filename)
    nbgrader(["autograde", name, "--force", "--create"], course, env)
    cells: dict[str, dict[str, float]] = {}
    totals: dict[str, float] = {}
    # what `nbgrader export` would write as raw_score, read here rather than by another nbgrader process
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        max_score = gradebook.find_assignment(name).max_score
        for student in submissions:
            scores = cells.setdefault(student, {})
            submission = gradebook.find_submission(name, student)
            totals[student] = float(submission.score)
            for notebook in submission.notebooks:
                scores.update({g.name: float(g.score) for g in notebook.grades})
    return Scores(cells, totals, float(max_score))


def shared_compilation_cache(folder: Path) -> dict[str, str]:
    return {
        "JAX_COMPILATION_CACHE_DIR": str(folder),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }
