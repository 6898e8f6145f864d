"""The nbgrader course the grader keeps in `grading/`: source, gradebook, submitted/,
autograded/ and feedback/. Only the host process writes here."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import textwrap
from pathlib import Path, PurePosixPath

import nbformat

from jaxcourse.course import release
from jaxcourse.course.assignments import SOURCE, CourseError
from jaxcourse.grading.intake import submissions
from jaxcourse.grading.intake.steps import Outcome, Run
from jaxcourse.grading.out import offline_math
from jaxcourse.grading.sandbox.notebook_outputs import plain_output
from jaxcourse.grading.verdicts import behaviour

STATE = ".jaxcourse"
CONFIG = """\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "equivalent-mutants.txt"]
# feedback pages: HTML a student wrote in a Markdown cell is shown escaped, never run
c.HTMLExporter.sanitize_html = True
"""


def _tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def open_course(root: Path, assignment: str, course: Path) -> str:
    """Make the grader's private course folder and its nbgrader config; return the hash of the
    assignment's source."""
    source = root / SOURCE / assignment
    if not source.is_dir():
        raise CourseError(f"no assignment {assignment!r} in {root / SOURCE}")
    course.mkdir(parents=True, exist_ok=True)
    os.chmod(course, 0o700)
    (course / STATE).mkdir(exist_ok=True)
    (course / "nbgrader_config.py").write_text(CONFIG.format(course_id=root.name))
    return _tree_hash(source)


def prepare(root: Path, assignment: str, course: Path) -> str:
    """Copy the assignment's source into `course` and (re)generate it there; return its hash."""
    digest = open_course(root, assignment, course)
    target = course / "source" / assignment
    if target.is_dir() and _tree_hash(target) == digest and (course / "gradebook.db").is_file():
        return digest
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(root / SOURCE / assignment, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    release.succeeded(release.nbgrader_api(course).generate_assignment(assignment, force=True), "generate_assignment")
    return digest


def export_grades(course: Path) -> None:
    """`nbgrader export --to grades.csv`, with nbgrader's CSV exporter, in this process."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    exporter = CsvExportPlugin()
    exporter.to = str(course / "grades.csv")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as book:
        exporter.export(book)


def load_state(course: Path, assignment: str) -> dict:
    path = course / STATE / f"{assignment}.json"
    return json.loads(path.read_text()) if path.is_file() else {"students": {}}


def save_state(course: Path, assignment: str, state: dict) -> None:
    path = course / STATE / f"{assignment}.json"
    path.write_text(json.dumps(state, indent=1, sort_keys=True))


def keep_roster(course: Path, assignment: str, roster: Path) -> None:
    """Keep a copy of the roster given to `grade`, for later runs and `jaxcourse export`."""
    (course / STATE / f"roster-{assignment}.csv").write_bytes(Path(roster).read_bytes())


def kept_roster(course: Path, assignment: str):
    from jaxcourse.grading.intake import roster

    path = course / STATE / f"roster-{assignment}.csv"
    return roster.read(path) if path.is_file() else None


def forget(course: Path, assignment: str, students: list[str]) -> list[str]:
    """Remove students (from a mistaken run) from the state, the gradebook and the course
    folders of one assignment; return what was done, one line each."""
    from nbgrader.api import Gradebook, MissingEntry

    state = load_state(course, assignment)
    known = set(state["students"]) | set(state.get("present", []))
    missing = [s for s in students if s not in known]
    if missing:
        raise CourseError(f"no student {', '.join(missing)} in the grading of {assignment} in {course}")
    done = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as book:
        for student in students:
            state["students"].pop(student, None)
            state["present"] = [s for s in state.get("present", []) if s != student]
            try:
                book.remove_submission(assignment, student)
            except MissingEntry:
                pass
            try:
                if not book.find_student(student).submissions:
                    book.remove_student(student)
            except MissingEntry:
                pass
            for kind in ("submitted", "autograded", "feedback"):
                shutil.rmtree(course / kind / student / assignment, ignore_errors=True)
                folder = course / kind / student
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            done.append(f"forgot {student}: grades, gradebook entry, submitted and graded files of {assignment}")
    save_state(course, assignment, state)
    export_grades(course)
    return done


def _safe_relative(name: str) -> Path | None:
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".", "..", "/")]
    return Path(*[submissions.safe_id(p) or "_" for p in parts]) if parts else None


def keep_submitted(course: Path, assignment: str, sub: submissions.Submission) -> list[str]:
    """Keep the student's files for nbgrader and formgrader; say which could not be kept."""
    folder = course / "submitted" / sub.student / assignment
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    notes = []
    for name, data in sub.files.items():
        relative = _safe_relative(name)
        if relative is None:
            continue
        try:
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(data)
        except OSError as err:  # `a` both a file and a folder in one download, say
            notes.append(f"{name}: not kept ({err.strerror or err})")
    return notes


def _hidden_output(outcome: Outcome) -> dict:
    """A failed hidden test part: what failed and how, in one line (`Outcome.summary`), never its
    code, inputs or expected values."""
    line = outcome.summary or outcome.error.split(":")[0] or outcome.status
    return {"output_type": "stream", "name": "stderr",
            "text": _wrapped(f"[hidden test failed] {line}") + "\n(the hidden tests' code and values are not shown)\n"}


def _wrapped(text: str) -> str:
    """One line of the grader's, folded to fit a feedback page's width."""
    return textwrap.fill(text, width=100, break_long_words=False, break_on_hyphens=False, subsequent_indent="  ")


def _status_output(outcome: Outcome) -> dict:
    return {"output_type": "stream", "name": "stderr", "text": f"[grader] {outcome.error}\n"}


def describe_changes(cell: str, changes: list[str]) -> list[str]:
    config = [c.split(":", 1)[1] for c in changes if c.startswith("config:")]
    threads = [c.split(":", 1)[1] for c in changes if c.startswith("thread:")]
    patched = [c for c in changes if not c.startswith(("config:", "thread:"))]
    notes = []
    if config:
        notes.append(f"before {cell}: JAX configuration reset ({', '.join(config)})")
    if patched:
        notes.append(f"before {cell}: put back what student code replaced ({', '.join(patched[:6])}"
                     f"{' ...' if len(patched) > 6 else ''}) - review")
    if threads:
        notes.append(f"before {cell}: student code left threads running ({', '.join(threads)}) - review")
    return notes


def inert(output: dict) -> dict:
    """`output` as a valid notebook output with every rich representation that could carry markup
    or script shown as text (`kernel.plain_output`; the kernel already sent it so, this is the last
    line before nbconvert)."""
    return plain_output({"msg_type": output.get("output_type"), "content": output})


def notes_cell(notes: list[str]) -> str:
    """The grader's notes as Markdown that shows them literally: they hold what students chose (file
    names, grade ids), so they go in a fence longer than any run of backticks in them."""
    fence = "`" * max(3, 1 + max((len(run) for n in notes for run in re.findall("`+", n)), default=0))
    return "**Grading notes**\n\n" + fence + "text\n" + "\n".join(f"- {n}" for n in notes) + "\n" + fence


def autograded_notebook(source: nbformat.NotebookNode, plan: submissions.Plan, run: Run | None,
                        notes: list[str], show_hidden: bool = False,
                        named: dict | None = None) -> nbformat.NotebookNode:
    """What the student sees in feedback: hidden tests' code and messages only with `show_hidden`."""
    notebook = nbformat.v4.new_notebook(metadata=json.loads(json.dumps(source.metadata)))
    cells = [nbformat.from_dict(json.loads(json.dumps(c))) for c in plan.cells]
    for cell, step in zip(cells, plan.step_of_cell):
        if step is None or run is None or step >= len(run.results):
            continue
        result = run.results[step]
        if show_hidden and plan.steps[step].hidden:
            cell.source = f"{plan.steps[step].source}\n\n# hidden tests\n{plan.steps[step].hidden}"
        cell.outputs = [nbformat.from_dict(inert(o)) for o in result.visible.outputs]
        if result.visible.status not in ("ok", "error"):
            cell.outputs.append(nbformat.from_dict(_status_output(result.visible)))
        hidden = result.hidden
        if hidden is not None and show_hidden:
            cell.outputs += [nbformat.from_dict(inert(o)) for o in hidden.outputs]
        shown = show_hidden or result.visible.status == "ok"  # after a visible failure, its message comes first
        if hidden is not None and shown and hidden.status not in ("ok", "skipped", "error" if show_hidden else ""):
            cell.outputs.append(nbformat.from_dict(_status_output(hidden) if show_hidden else _hidden_output(hidden)))
        if named and result.cell in named:
            cell.outputs.append(nbformat.v4.new_output("stream", name="stderr",
                                                       text=_wrapped(f"[known mistake] {behaviour.sentence(named[result.cell])}") + "\n"))
    if notes:
        cells.insert(0, nbformat.v4.new_markdown_cell(notes_cell(notes)))
    notebook.cells = cells
    return notebook


def record(gradebook, assignment: str, student: str, notebook_name: str, passed: dict[str, bool]) -> dict:
    scores = {}
    submission = gradebook.find_submission_notebook(notebook_name.removesuffix(".ipynb"), assignment, student)
    for grade in submission.grades:
        if grade.cell_type != "code":
            continue
        grade.auto_score = grade.max_score if passed.get(grade.name) else 0.0
        grade.needs_manual_grade = grade.manual_score is not None
        chosen = grade.manual_score if grade.manual_score is not None else grade.auto_score
        scores[grade.name] = float(chosen) + float(grade.extra_credit or 0.0)
    gradebook.db.commit()
    return scores


def fresh_submission(gradebook, assignment: str, student: str) -> None:
    from nbgrader.api import MissingEntry

    gradebook.update_or_create_student(student)
    try:
        gradebook.remove_submission(assignment, student)
    except MissingEntry:
        pass


def safe_autograded_notebook(source, plan, run, notes, show_hidden: bool = False,
                             named: dict | None = None) -> nbformat.NotebookNode:
    """`autograded_notebook`, valid whatever the submission held: a page that cannot be built or is
    not a valid notebook is built again without the notebook's outputs, with a note saying so (the
    score does not depend on the page)."""
    try:
        page = autograded_notebook(source, plan, run, notes, show_hidden, named)
        nbformat.validate(page)
        return page
    except Exception as err:  # anything a student's notebook or outputs can hold
        why = (f"the grader could not show this notebook's outputs ({err.__class__.__name__}); "
               "its tests were graded as usual")
        return autograded_notebook(source, plan, None, [*notes, why])


def write_page(course: Path, assignment: str, student: str, name: str, page: nbformat.NotebookNode) -> None:
    folder = course / "autograded" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(page, folder / name)


def feedback(course: Path, assignment: str, students: list[str], everyone: int) -> list[str]:
    """nbgrader's feedback pages; return the students whose page could not be made (one student's
    page never stops the others')."""
    api = release.nbgrader_api(course)
    if len(students) * 3 >= everyone and api.generate_feedback(assignment, force=True).get("success"):
        failed = []
    else:
        failed = [s for s in students if not api.generate_feedback(assignment, student_id=s, force=True).get("success")]
    for student in students:
        offline_math.render_pages(course / "feedback" / student / assignment)
    return failed
