"""One graded submission as the platform a class submits to reads it: Gradescope's and
PrairieLearn's `results.json`, built from what `jaxcourse grade` kept (the scores of the gradebook
and the feedback page's lines), never from anything the student's kernel wrote.

Each graded test cell is one or two entries: the checks the student can see in their notebook,
and, where the cell has them, its hidden checks, which carry the cell's points (a cell scores only
when both pass) and are shown as the instructor chose (Gradescope: after the grades are published,
by default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import nbformat

from jaxcourse.grading.intake import submissions

PLATFORMS = ("gradescope", "prairielearn")
VISIBILITY = ("visible", "after_due_date", "after_published", "hidden")  # Gradescope's words
MAX_OUTPUT_CHARS = 4000  # of one entry: a student's exception message can be long
HIDDEN_FAILED = "[hidden test failed] "
KNOWN_MISTAKE = "[known mistake] "
GRADER = "[grader] "


@dataclass
class Entry:
    name: str
    passed: bool
    lines: list[str]
    points: float | None = None  # None: the checks in the notebook, whose cell's points its hidden part carries
    score: float = 0.0
    hidden: bool = False


@dataclass
class Graded:
    """What one grading gave, in the platform's terms."""

    assignment: str
    score: float
    max_score: float
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # the grader's notes about this submission
    problem: str = ""  # why nothing of it could be graded ("" when it was)
    unreadable: bool = False  # not a notebook of this assignment at all: the platform's "not gradable"
    seconds: float = 0.0


def task_titles(source: nbformat.NotebookNode) -> dict[str, str]:
    """{test cell: the task's title as the student reads it}: the heading above its task cell,
    without the points ("Task 2: a recurrence that outputs a sequence, `lax.scan`")."""
    titles, heading, parts = {}, "", {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("#"):
            heading = re.sub(r"\s*\(\d+(\.\d+)? points?\)\s*$", "", cell.source.strip().splitlines()[0].lstrip("# "))
        elif meta.get("grade") and cell.cell_type == "code":
            parts[heading] = parts.get(heading, 0) + 1
            titles[meta["grade_id"]] = heading or meta["grade_id"]
    counted: dict[str, int] = {}
    for cell, title in titles.items():
        if parts.get(title, 1) > 1:
            counted[title] = counted.get(title, 0) + 1
            titles[cell] = f"{title} (part {counted[title]})"
    return titles


def _text(output: dict) -> str:
    if output.get("output_type") == "error":
        return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else str(text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def entries(source: nbformat.NotebookNode, page: nbformat.NotebookNode | None, scores: dict[str, float]) -> list[Entry]:
    """The entries of one notebook, from its source (which cells are graded, what is hidden) and
    the feedback page the grader built (`gradebook.autograded_notebook`)."""
    titles = task_titles(source)
    shown = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in (page.cells if page else [])}
    found = []
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not (meta.get("grade") and cell.cell_type == "code"):
            continue
        grade_id, points = meta["grade_id"], float(meta.get("points", 0))
        score = float(scores.get(grade_id, 0.0))
        has_hidden = bool(submissions.split_hidden(cell.source)[1])
        outputs = shown[grade_id].get("outputs", []) if grade_id in shown else []
        grader = [_text(o) for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
        hidden_lines = [_one_line(t.split(HIDDEN_FAILED, 1)[1].split("(the hidden tests'")[0])
                        for t in grader if t.startswith(HIDDEN_FAILED)]
        mistake = [_one_line(t.split(KNOWN_MISTAKE, 1)[1]) for t in grader if t.startswith(KNOWN_MISTAKE)]
        visible_failures = [_one_line(_text(o)) for o in outputs if o.get("output_type") == "error"]
        visible_failures += [_one_line(t) for t in grader if t.startswith(GRADER)]
        title = titles[grade_id]
        if grade_id not in shown:
            visible = Entry(title, False, ["not run: the notebook could not be graded"])
        elif visible_failures or (score < points and not has_hidden):
            visible = Entry(title, False, visible_failures or ["failed"])
        else:
            visible = Entry(title, True, ["passed"])
        if not has_hidden:
            visible.points, visible.score, visible.lines = points, score, visible.lines + mistake
            found.append(visible)
            continue
        visible.name = f"{title}: the checks in your notebook"
        if score >= points and points:
            hidden = Entry(f"{title}: hidden checks", True, ["passed"], points, score, True)
        elif not visible.passed:
            hidden = Entry(f"{title}: hidden checks", False, ["not run: the checks in your notebook failed first"],
                           points, score, True)
        else:
            hidden = Entry(f"{title}: hidden checks", False, hidden_lines or ["failed"], points, score, True)
        hidden.lines += mistake
        found += [visible, hidden]
    return found


def _clip(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS - 20] + " ... (cut short)"


def _summary(graded: Graded) -> str:
    if graded.problem:
        return f"{graded.assignment}: 0 of {graded.max_score:g} points: {graded.problem}"
    return f"{graded.assignment}: {graded.score:g} of {graded.max_score:g} points"


def gradescope(graded: Graded, hidden: str = "after_published") -> dict:
    """Gradescope's results.json (gradescope-autograders.readthedocs.io, "Autograder Specifications")."""
    if hidden not in VISIBILITY:
        raise ValueError(f"hidden tests' visibility {hidden!r}: one of {', '.join(VISIBILITY)}")
    tests = []
    for entry in graded.entries:
        test = {"name": entry.name, "status": "passed" if entry.passed else "failed",
                "output": _clip("\n".join(entry.lines)), "visibility": hidden if entry.hidden else "visible"}
        if entry.points is not None:
            test.update(score=entry.score, max_score=entry.points)
        tests.append(test)
    output = "\n".join([_summary(graded), *(f"- {n}" for n in graded.notes)])
    return {"score": float(graded.score), "execution_time": round(graded.seconds, 1), "output": _clip(output),
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def prairielearn(graded: Graded, hidden: str = "visible") -> dict:
    """PrairieLearn's results.json (docs/externalGrading.md, "Grading results"): `score` from 0
    to 1; a submission that is not a notebook of this assignment is not gradable (no attempt lost)."""
    message = "\n".join([_summary(graded), *(f"- {n}" for n in graded.notes)])
    if graded.unreadable:
        return {"gradable": False, "score": 0.0, "format_errors": [graded.problem], "message": _clip(message)}
    tests = []
    for entry in graded.entries:
        lines = entry.lines
        if entry.hidden and hidden != "visible" and not entry.passed:
            lines = ["failed (what the hidden checks look at is shown after grading)"]
        tests.append({"name": entry.name, "points": entry.score if entry.points is not None else 0.0,
                      "max_points": entry.points if entry.points is not None else 0.0,
                      "message": _clip("\n".join(lines)),
                      "description": "hidden checks" if entry.hidden else "the checks in your notebook"})
    score = graded.score / graded.max_score if graded.max_score else 0.0
    return {"gradable": True, "score": min(1.0, max(0.0, score)), "message": _clip(message), "tests": tests}
