"""The course as data: where assignments live and the conventions they follow.

- the solution cell of task NN has grade_id `task-NN-name`;
- its graded test cells have grade_ids starting `test-NN-`;
- a wrong-but-plausible answer lives in `tests/mistakes/<assignment>/<anything>.py`, whose first
  lines are `# task: task-NN-name` and `# why: ...`, and whose body replaces that solution cell.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

CONFIG = "nbgrader_config.py"
SOURCE = "solutions"
RELEASE = "exercises"
MISTAKES = Path("tests") / "mistakes"
FORGED = Path("tests") / "forged"  # answers that lie about themselves from their own kernel
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
TASK_ID = re.compile(r"^task-(\d+)-[\w-]+$")
TEST_ID = re.compile(r"^test-(\d+)-[\w-]+$")


class CourseError(RuntimeError):
    """nbgrader failed, or an assignment breaks the course's conventions."""


def course_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (the working folder) holding nbgrader_config.py."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG).is_file() and (folder / SOURCE).is_dir():
            return folder
    raise CourseError(f"no course (a folder with {CONFIG} and {SOURCE}/) at or above {here}")


def assignment_names(root: Path) -> list[str]:
    return sorted(p.name for p in (root / SOURCE).iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def assignment_folder(root: Path, name: str) -> Path:
    folder = root / SOURCE / name
    if not folder.is_dir():
        known = ", ".join(assignment_names(root)) or "none"
        raise CourseError(f"no assignment {name!r} in {root / SOURCE} (known: {known})")
    return folder


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
    for path in sorted(assignment_folder(root, name).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            gid = meta.get("grade_id", "")
            if meta.get("solution") and TASK_ID.match(gid):
                found[TASK_ID.match(gid).group(1)] = Task(gid, path.name)
            elif meta.get("grade") and TEST_ID.match(gid):
                tests.setdefault(TEST_ID.match(gid).group(1), {})[gid] = float(meta.get("points", 0))
    orphans = set(tests) - set(found)
    if orphans:
        raise CourseError(f"{name}: test cells for tasks {sorted(orphans)} have no task-NN solution cell")
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
        raise CourseError(f"expected one cell with grade_id {grade_id!r}, found {len(cells)}")
    cells[0].source = code
    return copy


def solved_assignment(root: Path, name: str, released: Path | None = None) -> dict[str, nbformat.NotebookNode]:
    """{notebook: the release (committed, or `released`) answered by the solution} of an assignment."""
    source = assignment_folder(root, name)
    released = released or root / RELEASE / name
    return {p.name: solved(p, released / p.name) for p in sorted(source.glob("*.ipynb"))}


def with_mistake(root: Path, name: str, solution: dict, mistake: Mistake) -> dict[str, nbformat.NotebookNode]:
    """The solved assignment (`solved_assignment`) with one task answered by a kept mistake."""
    by_id = {t.grade_id: t for t in tasks(root, name)}
    if mistake.task not in by_id:
        raise CourseError(f"{mistake.path}: no task {mistake.task!r} in {name}")
    notebook = by_id[mistake.task].notebook
    return {**solution, notebook: with_answer(solution[notebook], mistake.task, mistake.code)}


@dataclass(frozen=True)
class Mistake:
    path: Path
    task: str
    why: str
    code: str
    see: str = ""  # the chapter section that teaches the idea: "04_autodiff §6"


def mistakes(root: Path, name: str) -> list[Mistake]:
    """The wrong-but-plausible answers kept for an assignment."""
    return _answers(root / MISTAKES / name, "why")


def forged(root: Path, name: str) -> list[Mistake]:
    """Wrong answers that also lie about a property a test measures (`# lies:`, in `why`); each
    must lose its task's points like the kept mistake without the lie (`# plain:`, in `see`)."""
    return _answers(root / FORGED / name, "lies", also="plain")


def _answers(folder: Path, told: str, also: str = "see") -> list[Mistake]:
    found = []
    for path in sorted(folder.glob("*.py")):
        text = path.read_text()
        header = dict(re.findall(rf"^# (task|{told}|{also}): (.+)$", text, flags=re.M))
        if "task" not in header or told not in header:
            raise CourseError(f"{path}: needs '# task: task-NN-name' and '# {told}: ...' lines")
        found.append(Mistake(path, header["task"].strip(), header[told].strip(), text, header.get(also, "").strip()))
    return found
