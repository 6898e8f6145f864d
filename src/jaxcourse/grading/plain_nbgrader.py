"""Plain `nbgrader autograde`: the baseline that `jaxcourse validate` and the grading bench compare with."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import nbformat

from jaxcourse.course.release import nbgrader


@dataclass
class Scores:
    """Per-student, per-test-cell scores read back from the gradebook, and the exported totals."""

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
    nbgrader(["export", "--to", "grades.csv"], course)
    cells: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        max_score = gradebook.find_assignment(name).max_score
        for student in submissions:
            scores = cells.setdefault(student, {})
            for notebook in gradebook.find_submission(name, student).notebooks:
                scores.update({g.name: float(g.score) for g in notebook.grades})
    with open(course / "grades.csv", newline="") as handle:
        totals = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle)
                  if row["assignment"] == name}
    return Scores(cells, totals, float(max_score))


def shared_compilation_cache(folder: Path) -> dict[str, str]:
    return {
        "JAX_COMPILATION_CACHE_DIR": str(folder),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }
