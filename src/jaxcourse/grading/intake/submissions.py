"""From a pile of student files to the cells the grader will run.

`collect` (`jaxcourse.grading.intake.downloads`) reads a folder of `<student>/<files>` or an LMS
download (a zip, or its unpacked files, whose names start with the student id) into memory.
`read_notebook` says what is wrong with a file that is not a notebook. `plan` rebuilds each
student's notebook from the trusted source: the student's answers go into the source's answer
cells and cells the student added are kept, but every locked and test cell is the course's own,
whatever the student did to it; what they did is noted for the summary.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

# what the grader reads comes from `downloads`; kept here, where the pipeline looks for it
from jaxcourse.grading.intake.downloads import Submission as Submission
from jaxcourse.grading.intake.downloads import SubmissionError as SubmissionError
from jaxcourse.grading.intake.downloads import collect as collect
from jaxcourse.grading.intake.downloads import safe_id as safe_id
from jaxcourse.grading.intake.steps import Step

BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HIDDEN_NOTE = "### HIDDEN TESTS (run by the grader, not shown)"


def read_notebook(data: bytes) -> tuple[nbformat.NotebookNode | None, str]:
    """The notebook in `data`, or None and what is wrong with it."""
    if not data.strip():
        return None, "the file is empty"
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"not a notebook: not JSON ({err.__class__.__name__}: {str(err)[:80]})"
    except RecursionError:
        return None, "not a notebook: JSON nested too deeply to read"
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return None, "not a notebook: JSON without a list of cells"
    for cell in raw["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("source", ""), str | list):
            return None, "not a notebook: a cell has no valid source"
    try:
        notebook = nbformat.reads(json.dumps(raw), as_version=4)
    except RecursionError:
        return None, "not a notebook: JSON nested too deeply to read"
    except Exception as err:  # nbformat raises several kinds for malformed notebooks
        return None, f"not a notebook nbformat can read ({err.__class__.__name__}: {str(err)[:80]})"
    for cell in notebook.cells:
        if not isinstance(cell.get("source", ""), str) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return None, "not a notebook: a cell has no valid type or source"
    return notebook, ""


def pick_notebooks(submission: Submission, expected: list[str]) -> tuple[dict[str, tuple[str, bytes]], list[str]]:
    """Which submitted file stands for each expected notebook; notes say how it was found."""
    notes = []
    notebooks = {name: data for name, data in submission.files.items() if name.endswith(".ipynb")}
    by_base = {PurePosixPath(n).name: n for n in notebooks}
    found: dict[str, tuple[str, bytes]] = {}
    for want in expected:
        if want in by_base:
            found[want] = (by_base[want], notebooks[by_base[want]])
            continue
        ending = [n for n in notebooks if PurePosixPath(n).name.endswith(want)]
        if len(ending) == 1:
            found[want] = (ending[0], notebooks[ending[0]])
    unused = [n for n in notebooks if n not in {f for f, _ in found.values()}]
    missing = [w for w in expected if w not in found]
    if len(missing) == 1 and len(unused) == 1:
        found[missing[0]] = (unused[0], notebooks[unused[0]])
        notes.append(f"{unused[0]} graded as {missing[0]} (renamed)")
        unused = []
    used = {f for f, _ in found.values()}
    extras = sorted(n for n in submission.files if n not in used)
    if extras:
        shown = ", ".join(extras[:8]) + (f" and {len(extras) - 8} more" if len(extras) > 8 else "")
        notes.append(f"not used by the grader (only the notebook is graded): {shown}")
    return found, notes


# --- rebuilding the notebook from the trusted source -------------------------------------------


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def split_hidden(source: str) -> tuple[str, str]:
    """(visible part, hidden tests) of a test cell."""
    visible, hidden, inside = [], [], False
    for line in source.splitlines():
        if line.strip() == BEGIN_HIDDEN:
            inside = True
        elif line.strip() == END_HIDDEN:
            inside = False
        else:
            (hidden if inside else visible).append(line)
    return "\n".join(visible).rstrip(), "\n".join(hidden).strip("\n")


def _released_text(cell) -> str:
    """What the student was given for a locked cell: the source without its hidden tests."""
    return split_hidden(cell.source)[0] if _meta(cell).get("grade") else cell.source


def _text_key(cell) -> str:
    return f"{cell.get('cell_type')}:{hashlib.sha1(cell.get('source', '').strip().encode()).hexdigest()}"


@dataclass
class Plan:
    """The notebook the grader runs and then shows back: source cells, the student's answers."""

    cells: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    step_of_cell: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def _align(source_cells: list, student_cells: list) -> tuple[dict[int, int], list[int], list[str]]:
    """Source index -> student index, the student cells to run as their own, and notes."""
    ids = {_meta(c).get("grade_id") for c in source_cells} - {None}
    notes = []

    def source_key(cell):
        return _meta(cell).get("grade_id") or _text_key(cell)

    # A cell whose metadata was stripped is still recognised by the text the student was given.
    by_text = {_text_key(nbformat.from_dict({**c, "source": _released_text(c)})): source_key(c)
               for c in source_cells if not _meta(c).get("solution")}
    seen: set[str] = set()
    student_keys = []
    for cell in student_cells:
        gid = _meta(cell).get("grade_id")
        key = gid if gid in ids else by_text.get(_text_key(cell), _text_key(cell))
        if key in seen and key in ids:
            notes.append(f"cell {key} appears more than once: only the first copy is used")
            key = f"duplicate:{len(student_keys)}"
        seen.add(key)
        student_keys.append(key)
    matcher = difflib.SequenceMatcher(None, [source_key(c) for c in source_cells], student_keys, autojunk=False)
    pairs: dict[int, int] = {}
    extras: list[int] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pairs.update(zip(range(i1, i2), range(j1, j2)))
            continue
        answers = [i for i in range(i1, i2) if _meta(source_cells[i]).get("solution")]
        candidates = [j for j in range(j1, j2) if not _meta(student_cells[j]).get("grade")
                      and not _meta(student_cells[j]).get("locked")
                      and student_cells[j].cell_type == "code"]
        others = [j for j in range(j1, j2) if j not in candidates]
        if answers and candidates:
            if not all(_meta(student_cells[j]).get("grade_id") for j in candidates):
                notes.append("some cells had no nbgrader metadata: answers were matched by position")
            if len(answers) == 1:
                pairs[answers[0]] = candidates[0]
                extras += candidates[1:]
            else:
                pairs.update(zip(answers, candidates))
                extras += candidates[len(answers):]
        else:
            extras += candidates
        for j in others:
            gid = _meta(student_cells[j]).get("grade_id")
            if gid and gid not in ids and student_cells[j].cell_type == "code":
                notes.append(f"a locked or test cell with an unknown grade_id {gid!r} was ignored")
    return pairs, sorted(extras), list(dict.fromkeys(notes))


def plan(source: nbformat.NotebookNode, student: nbformat.NotebookNode | None) -> Plan:
    """Rebuild the student's notebook on top of the source; `student` None means no answers."""
    result = Plan()
    source_cells = source.cells
    student_cells = student.cells if student is not None else []
    pairs, extras, notes = _align(source_cells, student_cells)
    result.notes += notes
    extras_after: dict[int, list[int]] = {}
    for j in extras:
        before = [i for i, sj in pairs.items() if sj < j]
        extras_after.setdefault(max(before) if before else -1, []).append(j)

    def add_extra(j: int) -> None:
        cell = nbformat.v4.new_code_cell(student_cells[j].source)
        result.cells.append(cell)
        result.step_of_cell.append(len(result.steps))
        result.steps.append(Step("extra", f"extra-{j}", cell.source))

    for j in extras_after.get(-1, []):
        add_extra(j)
    for i, original in enumerate(source_cells):
        meta = _meta(original)
        gid = meta.get("grade_id") or f"cell-{i}"
        cell = nbformat.from_dict(json.loads(json.dumps(original)))
        if original.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        theirs = student_cells[pairs[i]] if i in pairs else None
        step = None
        if meta.get("solution"):
            answer = theirs.source if theirs is not None else ""
            if theirs is None and student is not None:
                result.notes.append(f"answer cell {gid} not found: graded as empty")
            cell.source = answer
            result.answers[gid] = answer
            if original.cell_type == "code":
                step = Step("answer", gid, answer)
        elif original.cell_type == "code":
            given = _released_text(original)
            if student is not None:
                if theirs is None:
                    result.notes.append(f"locked cell {gid} was deleted: the original was run")
                elif theirs.cell_type != "code":
                    result.notes.append(f"locked cell {gid} was changed to {theirs.cell_type}: the original was run")
                elif theirs.source.strip() != given.strip():
                    result.notes.append(f"locked cell {gid} was edited: the original was run")
            if meta.get("grade"):
                visible, hidden = split_hidden(original.source)
                cell.source = visible + (f"\n\n{HIDDEN_NOTE}" if hidden else "")
                step = Step("test", gid, visible, hidden)
            else:
                step = Step("locked", gid, original.source)
        result.cells.append(cell)
        result.step_of_cell.append(len(result.steps) if step else None)
        if step:
            result.steps.append(step)
        for j in extras_after.get(i, []):
            add_extra(j)
    if extras:
        result.notes.append(f"{len(extras)} cell(s) you added were run as your own code")
    return result


def write_class(folder: Path, students: dict[str, dict[str, nbformat.NotebookNode]]) -> Path:
    """Write {student: {file: notebook}} as a submissions folder that `grade` reads."""
    for student, notebooks in students.items():
        (folder / student).mkdir(parents=True, exist_ok=True)
        for filename, notebook in notebooks.items():
            nbformat.write(notebook, folder / student / filename)
    return folder
