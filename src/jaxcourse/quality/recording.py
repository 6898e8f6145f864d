"""`jaxcourse mistakes`: grade every kept mistake and record how it behaves (`behaviour.json`), so
that feedback can name an answer that behaves like one (`jaxcourse.grading.behaviour`)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from jaxcourse.course import assignments
from jaxcourse.grading import pipeline, submissions
from jaxcourse.grading.behaviour import FORMAT, RECORDING, informative, same, source_digest


def record(root: Path, name: str, workers: int | None = None, progress: bool = True) -> tuple[Path, list[str]]:
    """Grade every kept mistake of `name` (the solution with one task's answer replaced) and keep
    how each behaves in `behaviour.json`; return its path and the problems found (a mistake that
    keeps its points, two that behave alike)."""
    source = root / assignments.SOURCE / name
    release = root / assignments.RELEASE / name
    by_notebook = {t.grade_id: t.notebook for t in assignments.tasks(root, name)}
    solved = {p.name: assignments.solved(p, release / p.name) for p in sorted(source.glob("*.ipynb"))}
    kept = {m.path.stem: m for m in assignments.mistakes(root, name)}
    students = {stem: {**solved, by_notebook[m.task]: assignments.with_answer(solved[by_notebook[m.task]], m.task,
                                                                              m.code)}
                for stem, m in kept.items()}
    problems = []
    with tempfile.TemporaryDirectory(prefix=f"jc-{os.getpid()}-mistakes-") as tmp:
        folder = submissions.write_class(Path(tmp) / "submissions", students)
        report = pipeline.grade(root, name, folder, course=Path(tmp) / "course", workers=workers,
                                progress=progress, feedback=False, keep_behaviour=True)
    recorded = {"source": source_digest(root, name), "format": FORMAT, "mistakes": {}}
    for stem, mistake in kept.items():
        seen = report.students[stem].behaviours.get(mistake.task)
        if seen is None:
            problems.append(f"{name}/{stem}: keeps the points of {mistake.task}: nothing to record")
            continue
        recorded["mistakes"][stem] = {"file": stem, "task": mistake.task, "why": mistake.why, "see": mistake.see,
                                      "behaviour": seen}
    entries = list(recorded["mistakes"].values())
    for i, a in enumerate(entries):
        for b in entries[i + 1:]:
            if a["task"] == b["task"] and same(a["behaviour"], b["behaviour"]):
                problems.append(f"{name}: {a['file']} and {b['file']} behave alike on every test of {a['task']}: "
                                "neither can be named (give the tests an input that tells them apart)")
        if not informative(a["behaviour"]):
            problems.append(f"{name}/{a['file']}: too few numbers cross on {a['task']}'s tests to name it")
    path = root / assignments.MISTAKES / name / RECORDING
    path.write_text(json.dumps(recorded, indent=None, separators=(",", ":"), sort_keys=True) + "\n")
    return path, problems



def record_all(root: Path, names: list[str] | None = None) -> list[str]:
    """`record` for these assignments (all with kept mistakes by default); one line each, and one
    per problem found."""
    lines = []
    for name in names or assignments.assignment_names(root):
        if not assignments.mistakes(root, name):
            continue
        path, problems = record(root, name)
        lines += [f"{name}: {path.relative_to(root)}", *(f"  warning: {p}" for p in problems)]
    return lines
