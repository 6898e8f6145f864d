"""`jaxcourse validate`: prove an assignment gradeable."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from jaxcourse.course.assignments import (
    FORGED,
    MISTAKES,
    RELEASE,
    CourseError,
    assignment_folder,
    forged,
    mistakes,
    solved_assignment,
    tasks,
)
from jaxcourse.course.release import generate, release_drift
from jaxcourse.grading import pipeline
from jaxcourse.grading.intake import submissions
from jaxcourse.grading.plain_nbgrader import autograde, shared_compilation_cache
from jaxcourse.quality import audit, feedback_checks
from jaxcourse.quality.mutation import Mutant


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
             audit_sample: bool = False) -> list[Check]:
    """Prove an assignment gradeable: the committed release is what the source generates; plain
    `nbgrader autograde` gives the solution full marks; and through `jaxcourse grade` (the sandboxed
    pipeline instructors use) the solution scores full marks, the release zero, and each kept
    mistake loses exactly the points of its own task's tests. Kept answers of tasks that cannot see
    each other share a submission (`_kept_in_rounds`): each is scored on its own task's test cells,
    and is reported with the score the submission would have with it alone.

    `audit_sample` also grades mutants of the recorded audit (`jaxcourse audit`) where the kept
    answers' submissions leave a task free (a submission of their own only when none is): the check
    named "audit" says whether the record is current and passes, and whether they agree with it.
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
        students = {"solution": solution, "release": release_copy}
        sample = audit.candidates(root, name)[1] if audit_sample else None
        kept_answers, grouped = _kept_in_rounds(root, name, solution, sample)
        students.update(kept_answers)
        plan = audit.Plan(name, kept_answers, grouped, {t: audit.TaskAudit(t, "") for t in by_id},
                          {t.grade_id: t.tests for t in all_tasks}, KEPT) if audit_sample else None
        folder = submissions.write_class(Path(tmp) / "class", students)
        start = time.monotonic()
        report = pipeline.grade(root, name, folder, course=Path(tmp) / "grading", env=dict(env or {}),
                              progress=False, feedback=False)
        graded = time.monotonic() - start
        if plain:
            # The course's own notebook: it may start from what the grading run compiled.
            cache = Path(tmp) / "jax-cache"
            for folder in pipeline.warmed_caches(Path(tmp) / "grading", name):
                shutil.copytree(folder, cache, dirs_exist_ok=True)
            plain_scores = autograde(course, name, {"solution": solution},
                                     {**shared_compilation_cache(cache), **(env or {})})
        rounds = {f"{KEPT}-{index:03d}": chosen for index, chosen in enumerate(grouped)}
        pages = feedback_checks.check(root, name, Path(tmp) / "grading", report,
                                      {student: [(by_id[task].tests, answer) for task, answer in chosen.items()
                                                 if _label(answer).startswith("mistake-")]
                                       for student, chosen in rounds.items()},
                                      ["release", *rounds])
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
        checks.append(_audit_check(root, name, plan.score(report, graded)))
    points = {cell: p for t in all_tasks for cell, p in t.tests.items()}
    for student, chosen in rounds.items():
        cells = report.students[student].cells
        lost = sorted(c for c, s in cells.items() if c in points and s < points[c])
        theirs = {cell for task in chosen for cell in by_id[task].tests}
        elsewhere = [c for c in lost if c not in theirs]
        for task_id, answer in chosen.items():
            if isinstance(answer, Mutant):  # the audit's (`plan.score`)
                continue
            task = by_id[task_id]
            kept_points = sum(cells.get(cell, 0.0) for cell in task.tests)
            detail = f"{answer.why} (loses {task.grade_id}'s {task.points:g} points)"
            if elsewhere:
                others = ", ".join(_label(a) for t, a in chosen.items() if t != task_id) or "no other"
                detail += f"; but its submission (with {others}) also failed {', '.join(elsewhere)}"
            checks.append(Check(_label(answer), full - task.points,
                                full - task.points + kept_points if not elsewhere else -1.0, detail))
    checks += [Check(student, 1.0, float(ok), detail) for student, ok, detail in pages]
    kept = {m.path.stem for m in mistakes(root, name)}
    checks += [Check(f"forged-{a.path.stem}-plain", 1.0, 0.0, f"'# plain: {a.see}' names no kept mistake of {name}")
               for a in forged(root, name) if a.see not in kept]
    covered = {task for chosen in grouped for task, answer in chosen.items() if not isinstance(answer, Mutant)}
    for task in all_tasks:
        if task.grade_id not in covered:
            checks.append(Check(f"no-mistake-for-{task.grade_id}", 1.0, 0.0,
                                f"no wrong-but-plausible answer in {MISTAKES / name} for this task"))
        if task.points <= 0:
            checks.append(Check(f"no-points-for-{task.grade_id}", 1.0, 0.0, "its tests carry no points"))
    return checks


KEPT = "kept"


def _audit_check(root: Path, name: str, sample: audit.AuditReport) -> Check:
    """The recorded audit (`jaxcourse audit`) is current and passes, and the mutants graded again
    in this run get the verdicts it gives them."""
    record, problems = audit.recorded(root, name)
    if record:
        problems += [f"{name}: a mutant graded again disagrees with the audit record ({line})"
                     for line in audit.agreement(record, sample)]
    regraded = sum(t.made for t in sample.tasks)
    detail = "; ".join(problems) if problems else (
        f"{record['table'].splitlines()[0]} (recorded, JAX {record['jax']}); {regraded} of its mutants "
        "graded again here agree")
    return Check("audit", 1.0, float(not problems), detail)


def _label(answer) -> str:
    if isinstance(answer, Mutant):
        return f"mutant '{answer.key}'"
    return f"{'forged' if answer.path.parent.parent.name == FORGED.name else 'mistake'}-{answer.path.stem}"


def _kept_in_rounds(root: Path, name: str, solution: dict, sample: dict[str, list] | None = None
                    ) -> tuple[dict, list[dict]]:
    """Submissions `kept-NNN`: the kept mistakes and forged answers, one per task in each, of tasks
    that cannot see each other's answers (what `audit` does with mutants); a task's test cells say
    how its own answer did. `sample` ({task: mutants}) fills the tasks these leave free."""
    by_task: dict[str, list] = {}
    for answer in [*mistakes(root, name), *forged(root, name)]:
        by_task.setdefault(answer.task, []).append(answer)
    answers, tests = audit.task_sources(root, name)
    unknown = sorted(set(by_task) - set(answers))
    if unknown:
        raise CourseError(f"{by_task[unknown[0]][0].path}: no task {unknown[0]!r} in {name}")
    # a kept answer may read names its task's solution does not: each task's every answer counts
    every_answer = {task: "\n".join([code, *(a.code for a in by_task.get(task, []))]) for task, code in answers.items()}
    depends = audit.dependencies(every_answer, tests)
    grouped = audit.rounds(by_task, depends)
    if sample and not audit.fill(grouped, sample, depends):  # no task free anywhere: a submission of mutants
        grouped += audit.rounds({task: mutants[:1] for task, mutants in sample.items()}, depends)[:1]
    return audit.submissions_of(root, name, solution, grouped, lambda answer: answer.code, KEPT), grouped
