"""`jaxcourse mistakes`: grade every kept mistake and record how it behaves (`behaviour.json`), so
that feedback can name an answer that behaves like one (`jaxcourse.grading.verdicts.behaviour`)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from jaxcourse import checks
from jaxcourse.course import assignments
from jaxcourse.grading import pipeline
from jaxcourse.grading.intake import submissions
from jaxcourse.grading.verdicts import behaviour
from jaxcourse.grading.verdicts.behaviour import FORMAT, RECORDING, informative, same, source_digest


def record(root: Path, name: str, workers: int | None = None, progress: bool = True) -> tuple[Path, list[str]]:
    """Grade every kept mistake of `name` (the solution with one task's answer replaced) and keep
    how each behaves in `behaviour.json`; return its path and the problems found (a mistake that
    keeps its points, two that behave alike)."""
    solved = assignments.solved_assignment(root, name)
    kept = {m.path.stem: m for m in assignments.mistakes(root, name)}
    students = {stem: assignments.with_mistake(root, name, solved, m) for stem, m in kept.items()}
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
                                      "behaviour": seen,
                                      "visible": report.students[stem].visible_checks.get(mistake.task, [])}
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
        assignments.assignment_folder(root, name)  # an unknown name: one line, not silence
        if not assignments.mistakes(root, name):
            continue
        path, problems = record(root, name)
        lines += [f"{name}: {path.relative_to(root)}", *(f"  warning: {p}" for p in problems)]
    return lines


def notebook_table(root: Path) -> str:
    """`checks.KNOWN_MISTAKES`: for every kept mistake whose visible test fails at a check, that
    check, how it failed and the numbers the cell's checks saw. Only the visible inputs' outcomes:
    nothing about hidden inputs or the solution. Generated from the recordings, never by hand."""
    table = []
    for name in assignments.assignment_names(root):
        recorded = behaviour.load(root, name)
        for stem, mistake in sorted(recorded.get("mistakes", {}).items()):
            for what, kind, count, numbers in mistake.get("visible", []):
                if checks.informative(numbers):
                    table.append({"assignment": name, "file": stem, "task": mistake["task"], "why": mistake["why"],
                                  "see": mistake["see"], "what": what, "kind": kind, "count": count,
                                  "numbers": [float(f"{x:.7g}") for x in numbers]})
    return json.dumps(table, indent=None, separators=(",", ":")) + "\n"


def _table_path(root: Path) -> Path | None:
    """Where the course's package keeps the table; None for a course folder without the package."""
    package = root / "src" / "jaxcourse"
    return package / checks.KNOWN_MISTAKES.name if package.is_dir() else None


def publish(root: Path) -> Path | None:
    """Write the table a student's notebook names known mistakes from (`jaxcourse release`)."""
    path = _table_path(root)
    if path is not None:
        path.write_text(notebook_table(root))
    return path


def publish_drift(root: Path) -> list[str]:
    path = _table_path(root)
    if path is None:
        return []
    if not path.is_file() or path.read_text() != notebook_table(root):
        return [f"{path.relative_to(root)} does not match the kept mistakes' recordings: run `make release` "
                "and commit it"]
    return []
