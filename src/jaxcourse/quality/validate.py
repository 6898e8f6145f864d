"""`jaxcourse validate`: prove an assignment gradeable."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from jaxcourse.course.assignments import (
    MISTAKES,
    RELEASE,
    CourseError,
    assignment_folder,
    forged,
    mistakes,
    solved_assignment,
    tasks,
    with_answer,
    with_mistake,
)
from jaxcourse.course.release import generate, release_drift
from jaxcourse.grading import pipeline
from jaxcourse.grading.intake import submissions
from jaxcourse.grading.plain_nbgrader import autograde, shared_compilation_cache
from jaxcourse.quality import audit, feedback_checks


@dataclass(frozen=True)
class Check:
    submission: str
    expected: float
    got: float
    detail: str

    @property
    def ok(self) -> bool:
        return abs(self.expected - self.got) < 1e-9


def validate(root: Path, name: str, env: dict[str, str] | None = None, *, plain: bool = True,
             mutants: int | None = 0) -> list[Check]:
    """Prove an assignment gradeable: the committed release is what the source generates; plain
    `nbgrader autograde` gives the solution full marks; and through `jaxcourse grade` (the sandboxed
    pipeline instructors use) the solution scores full marks, the release zero, and each kept
    mistake loses exactly the points of its own task's tests.

    `mutants` (a cap per task, None for all, 0 for none) also runs `jaxcourse audit` in the same
    grading run: its report comes back as the check named "audit".
    """
    assignment_folder(root, name)  # an unknown name: one line
    all_tasks = tasks(root, name)
    by_id = {t.grade_id: t for t in all_tasks}
    if not all_tasks:
        raise CourseError(f"{name}: no task-NN solution cells")
    with tempfile.TemporaryDirectory() as tmp:
        course = generate(root, name, Path(tmp))
        released = course / RELEASE / name
        drift = release_drift(root, name, course)
        solution = solved_assignment(root, name, released)
        release_copy = {nb: nbformat.read(released / nb, as_version=4) for nb in solution}
        if plain:
            # The course's own notebooks: their kernels may share one compilation cache.
            plain_scores = autograde(course, name, {"solution": solution},
                                     {**shared_compilation_cache(Path(tmp) / "jax-cache"), **(env or {})})
        students = {"solution": solution, "release": release_copy}
        expectations = {}
        for mistake in mistakes(root, name):
            student = f"mistake-{mistake.path.stem}"
            students[student] = with_mistake(root, name, solution, mistake)
            expectations[student] = (by_id[mistake.task], mistake)
        for answer in forged(root, name):  # lies scored like the plain mistake: lose the task's points
            student = f"forged-{answer.path.stem}"
            students[student] = with_mistake(root, name, solution, answer)
            expectations[student] = (by_id[answer.task], answer)
        every = dict(solution)  # a kept mistake in every task, one notebook: every lost part must say why
        for mistake in {m.task: m for m in mistakes(root, name)}.values():
            notebook = by_id[mistake.task].notebook
            every[notebook] = with_answer(every[notebook], mistake.task, mistake.code)
        students["all-mistakes"] = every
        plan = audit.plan(root, name, solution, cap=mutants) if mutants != 0 else None
        if plan is not None:
            students.update(plan.students)
        folder = submissions.write_class(Path(tmp) / "class", students)
        start = time.monotonic()
        report = pipeline.grade(root, name, folder, course=Path(tmp) / "grading", env=dict(env or {}),
                              progress=False, feedback=False)
        pages = feedback_checks.check(root, name, Path(tmp) / "grading", report,
                                      {s: m for s, (_, m) in expectations.items() if not s.startswith("forged-")},
                                      ["release", "all-mistakes"])
    full = report.max_score
    got = {student: record.score for student, record in report.students.items()}
    checks = [
        Check("committed-release", 0.0, float(len(drift)),
              "; ".join(drift) if drift else "exercises/ is what solutions/ generates"),
        Check("solution", full, got["solution"], "full marks"),
        Check("release", 0.0, got["release"], "the untouched release scores zero"),
    ]
    if plain:
        checks.append(Check("nbgrader-solution", full, plain_scores.totals["solution"],
                            "plain nbgrader autograde: full marks"))
    if plan is not None:
        result = plan.score(report, time.monotonic() - start)
        checks.append(Check("audit", 1.0, float(result.passed), result.table()))
    points = {cell: p for t in all_tasks for cell, p in t.tests.items()}
    for student, (task, mistake) in expectations.items():
        cells = report.students[student].cells
        lost = sorted(c for c, s in cells.items() if c in points and s < points[c])
        elsewhere = [c for c in lost if c not in task.tests]
        detail = f"{mistake.why} (loses {task.grade_id}'s {task.points:g} points)"
        if elsewhere:
            detail += f"; but it also failed {', '.join(elsewhere)}"
        checks.append(Check(student, full - task.points, got[student] if not elsewhere else -1.0, detail))
    checks += [Check(student, 1.0, float(ok), detail) for student, ok, detail in pages]
    kept = {m.path.stem for m in mistakes(root, name)}
    checks += [Check(f"forged-{a.path.stem}-plain", 1.0, 0.0, f"'# plain: {a.see}' names no kept mistake of {name}")
               for a in forged(root, name) if a.see not in kept]
    covered = {task.grade_id for task, _ in expectations.values()}
    for task in all_tasks:
        if task.grade_id not in covered:
            checks.append(Check(f"no-mistake-for-{task.grade_id}", 1.0, 0.0,
                                f"no wrong-but-plausible answer in {MISTAKES / name} for this task"))
        if task.points <= 0:
            checks.append(Check(f"no-points-for-{task.grade_id}", 1.0, 0.0, "its tests carry no points"))
    return checks
