"""nbgrader round trips: regenerate the release, fill in submissions, autograde, read scores.

Conventions the assignments follow:
- the solution cell of task NN has grade_id `task-NN-name`;
- its graded test cells have grade_ids starting `test-NN-`;
- a wrong-but-plausible answer lives in `tests/mistakes/<assignment>/<anything>.py`, whose first
  lines are `# task: task-NN-name` and `# why: ...`, and whose body replaces that solution cell.
"""

from __future__ import annotations

import csv
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

CONFIG = "nbgrader_config.py"
SOURCE = "solutions"
RELEASE = "exercises"
MISTAKES = Path("tests") / "mistakes"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
TASK_ID = re.compile(r"^task-(\d+)-[\w-]+$")
TEST_ID = re.compile(r"^test-(\d+)-[\w-]+$")


class GradingError(RuntimeError):
    """nbgrader failed, or an assignment breaks the course's conventions."""


def course_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (the working folder) holding nbgrader_config.py."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG).is_file() and (folder / SOURCE).is_dir():
            return folder
    raise GradingError(f"no course (a folder with {CONFIG} and {SOURCE}/) at or above {here}")


def assignment_names(root: Path) -> list[str]:
    return sorted(p.name for p in (root / SOURCE).iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def _check_assignment(root: Path, name: str) -> Path:
    folder = root / SOURCE / name
    if not folder.is_dir():
        known = ", ".join(assignment_names(root)) or "none"
        raise GradingError(f"no assignment {name!r} in {root / SOURCE} (known: {known})")
    return folder


def _nbgrader_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    # nbgrader shells out to alembic, and kernels are found through PATH: put this Python's bin first.
    env = {**os.environ, **(extra or {})}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def nbgrader(args: list[str], course: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run one nbgrader command in the course folder `course`; raise GradingError on failure.

    `env` adds variables for nbgrader and the kernels it starts (XLA_FLAGS, for one).
    """
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=_nbgrader_env(env),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise GradingError(f"nbgrader {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def _scratch_course(root: Path, name: str, parent: Path) -> Path:
    """A throwaway course holding only the config and one assignment's source."""
    course = parent / "course"
    (course / SOURCE).mkdir(parents=True)
    shutil.copy2(root / CONFIG, course / CONFIG)
    shutil.copytree(_check_assignment(root, name), course / SOURCE / name,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return course


def generate(root: Path, name: str, parent: Path) -> Path:
    """Generate assignment `name` in a scratch course under `parent`; return that course."""
    course = _scratch_course(root, name, parent)
    nbgrader(["generate_assignment", name, "--force"], course)
    return course


def release(root: Path, names: list[str] | None = None) -> list[Path]:
    """Regenerate exercises/<name> from solutions/<name> for each assignment."""
    written = []
    for name in names or assignment_names(root):
        with tempfile.TemporaryDirectory() as tmp:
            course = generate(root, name, Path(tmp))
            target = root / RELEASE / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(course / RELEASE / name, target)
            written.append(target)
    return written


def _differences(expected: Path, actual: Path, prefix: str) -> list[str]:
    found = []
    cmp = filecmp.dircmp(expected, actual)
    found += [f"{prefix}{n}: missing from the committed release" for n in cmp.left_only]
    found += [f"{prefix}{n}: in the committed release but not generated" for n in cmp.right_only]
    for n in cmp.common_files:
        if (expected / n).read_bytes() != (actual / n).read_bytes():
            found.append(f"{prefix}{n}: differs from what {SOURCE}/ generates")
    for n in cmp.common_dirs:
        found += _differences(expected / n, actual / n, f"{prefix}{n}/")
    return found


def _release_drift(root: Path, name: str, course: Path) -> list[str]:
    """How the committed exercises/<name> differs from the release generated in `course`."""
    committed = root / RELEASE / name
    if not committed.is_dir():
        return [f"{RELEASE}/{name}: not generated (run `jaxcourse release`)"]
    return _differences(course / RELEASE / name, committed, f"{RELEASE}/{name}/")


def stray_releases(root: Path) -> list[str]:
    """Folders in exercises/ that no assignment in solutions/ generates."""
    strays = {p.name for p in (root / RELEASE).iterdir() if p.is_dir()} - set(assignment_names(root))
    return [f"{RELEASE}/{n}: has no source in {SOURCE}/" for n in sorted(strays)]


def release_differences(root: Path, names: list[str] | None = None) -> list[str]:
    """What differs between the committed exercises/ and a fresh release from solutions/."""
    found = []
    for name in names or assignment_names(root):
        with tempfile.TemporaryDirectory() as tmp:
            found += _release_drift(root, name, generate(root, name, Path(tmp)))
    return found + stray_releases(root)


# --- submissions -------------------------------------------------------------------------------


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_code(source: str) -> str:
    """A solution cell's source with the BEGIN/END SOLUTION marker lines removed."""
    kept = [line for line in source.splitlines() if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)]
    return "\n".join(kept)


@dataclass(frozen=True)
class Task:
    grade_id: str
    notebook: str
    tests: dict[str, float] = field(default_factory=dict)

    @property
    def points(self) -> float:
        return sum(self.tests.values())


def tasks(root: Path, name: str) -> list[Task]:
    """The tasks of an assignment, each with its graded test cells and their points."""
    found: dict[str, Task] = {}
    tests: dict[str, dict[str, float]] = {}
    for path in sorted(_check_assignment(root, name).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            gid = meta.get("grade_id", "")
            if meta.get("solution") and TASK_ID.match(gid):
                found[TASK_ID.match(gid).group(1)] = Task(gid, path.name)
            elif meta.get("grade") and TEST_ID.match(gid):
                tests.setdefault(TEST_ID.match(gid).group(1), {})[gid] = float(meta.get("points", 0))
    orphans = set(tests) - set(found)
    if orphans:
        raise GradingError(f"{name}: test cells for tasks {sorted(orphans)} have no task-NN solution cell")
    return [Task(t.grade_id, t.notebook, tests.get(number, {})) for number, t in sorted(found.items())]


def solved(source: Path, released: Path) -> nbformat.NotebookNode:
    """The released notebook with every solution cell answered by the source's solution."""
    answers = {
        _grade_id(c): solution_code(c.source)
        for c in nbformat.read(source, as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    notebook = nbformat.read(released, as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[_grade_id(cell)]
    return notebook


def with_answer(notebook: nbformat.NotebookNode, grade_id: str, code: str) -> nbformat.NotebookNode:
    """A copy of `notebook` whose solution cell `grade_id` holds `code`."""
    copy = nbformat.from_dict(json.loads(json.dumps(notebook)))
    cells = [c for c in copy.cells if _grade_id(c) == grade_id]
    if len(cells) != 1:
        raise GradingError(f"expected one cell with grade_id {grade_id!r}, found {len(cells)}")
    cells[0].source = code
    return copy


@dataclass(frozen=True)
class Mistake:
    path: Path
    task: str
    why: str
    code: str


def mistakes(root: Path, name: str) -> list[Mistake]:
    """The wrong-but-plausible answers kept for an assignment."""
    found = []
    for path in sorted((root / MISTAKES / name).glob("*.py")):
        text = path.read_text()
        header = dict(re.findall(r"^# (task|why): (.+)$", text, flags=re.M))
        if "task" not in header or "why" not in header:
            raise GradingError(f"{path}: needs '# task: task-NN-name' and '# why: ...' lines")
        found.append(Mistake(path, header["task"].strip(), header["why"].strip(), text))
    return found


# --- autograding -------------------------------------------------------------------------------


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


def _shared_compilation_cache(folder: Path) -> dict[str, str]:
    return {
        "JAX_COMPILATION_CACHE_DIR": str(folder),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }


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
    from jaxcourse import audit, grader

    source_folder = _check_assignment(root, name)
    all_tasks = tasks(root, name)
    by_id = {t.grade_id: t for t in all_tasks}
    if not all_tasks:
        raise GradingError(f"{name}: no task-NN solution cells")
    with tempfile.TemporaryDirectory() as tmp:
        course = generate(root, name, Path(tmp))
        released = course / RELEASE / name
        drift = _release_drift(root, name, course)
        notebooks = sorted(p.name for p in source_folder.glob("*.ipynb"))
        solution = {nb: solved(source_folder / nb, released / nb) for nb in notebooks}
        release_copy = {nb: nbformat.read(released / nb, as_version=4) for nb in notebooks}
        if plain:
            # The course's own notebooks: their kernels may share one compilation cache.
            plain_scores = autograde(course, name, {"solution": solution},
                                     {**_shared_compilation_cache(Path(tmp) / "jax-cache"), **(env or {})})
        students = {"solution": solution, "release": release_copy}
        expectations = {}
        for mistake in mistakes(root, name):
            task = by_id.get(mistake.task)
            if task is None:
                raise GradingError(f"{mistake.path}: no task {mistake.task!r} in {name}")
            student = f"mistake-{mistake.path.stem}"
            notebook = with_answer(solution[task.notebook], task.grade_id, mistake.code)
            students[student] = {**solution, task.notebook: notebook}
            expectations[student] = (task, mistake)
        plan = audit.plan(root, name, solution, cap=mutants) if mutants != 0 else None
        if plan is not None:
            students.update(plan.students)
        folder = grader.write_class(Path(tmp) / "class", students)
        start = time.monotonic()
        report = grader.grade(root, name, folder, course=Path(tmp) / "grading", env=dict(env or {}),
                              progress=False, feedback=False)
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
    covered = {task.grade_id for task, _ in expectations.values()}
    for task in all_tasks:
        if task.grade_id not in covered:
            checks.append(Check(f"no-mistake-for-{task.grade_id}", 1.0, 0.0,
                                f"no wrong-but-plausible answer in {MISTAKES / name} for this task"))
        if task.points <= 0:
            checks.append(Check(f"no-points-for-{task.grade_id}", 1.0, 0.0, "its tests carry no points"))
    return checks
