"""Feedback that teaches, through the real pipeline, for every assignment: each kept mistake,
graded as a submission, is named in its own feedback (its `why`, no other mistake's); every
lost test part of the untouched release and of a notebook of all the kept mistakes has a line a
student can act on; no page shows a hidden check's code, inputs or expected values."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import nbformat
import pytest

from jaxcourse.course import assignments
from jaxcourse.grading import behaviour, pipeline, submissions
from jaxcourse.grading.sandbox import Limits

ROOT = Path(__file__).resolve().parents[2]
NAMES = [n for n in assignments.assignment_names(ROOT) if assignments.mistakes(ROOT, n)]
LIMITS = Limits(cell_seconds=120, notebook_seconds=600, memory_bytes=int(1.5 * 2**30))


def page_text(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def hidden_lines(name: str) -> list[str]:
    """Lines of hidden test code a page must never show (a line that is only a string, such as a
    check's description on a line of its own, is what a page may show)."""
    found, shown = [], set()
    for path in sorted((ROOT / assignments.SOURCE / name).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            visible, secret = submissions.split_hidden(cell.source)
            shown |= {line.strip() for line in visible.splitlines()}
            found += [line.strip() for line in secret.splitlines() if len(line.strip()) > 25]
    return [line for line in found if line not in shown and not _only_a_string(line)]


def _only_a_string(line: str) -> bool:
    try:
        body = ast.parse(line.rstrip(",)")).body
    except SyntaxError:
        return False
    return len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant | ast.JoinedStr)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_every_kept_mistake_is_named_and_every_lost_part_says_why(name, tmp_path):
    assert behaviour.load(ROOT, name), f"{name}: no current behaviour.json: run `make mistakes`"
    source = ROOT / assignments.SOURCE / name
    release = ROOT / assignments.RELEASE / name
    solved = {p.name: assignments.solved(p, release / p.name) for p in sorted(source.glob("*.ipynb"))}
    by_notebook = {t.grade_id: t.notebook for t in assignments.tasks(ROOT, name)}
    kept = {m.path.stem: m for m in assignments.mistakes(ROOT, name)}
    students = {stem: {**solved, by_notebook[m.task]: assignments.with_answer(solved[by_notebook[m.task]], m.task,
                                                                              m.code)} for stem, m in kept.items()}
    students["release"] = {p: nbformat.read(release / p, as_version=4) for p in solved}
    every = dict(solved)
    for mistake in {m.task: m for m in kept.values()}.values():  # one mistake a task, in one notebook
        notebook = by_notebook[mistake.task]
        every[notebook] = assignments.with_answer(every[notebook], mistake.task, mistake.code)
    students["all-mistakes"] = every
    folder = submissions.write_class(tmp_path / "submissions", students)
    report = pipeline.grade(ROOT, name, folder, course=tmp_path / "course", workers=2, progress=False,
                            limits=LIMITS)
    secret = hidden_lines(name)
    unnamed, wrong = [], []
    for student in students:
        pages = sorted((tmp_path / "course" / "feedback" / student / name).glob("*.html"))
        text = "\n".join(page_text(p) for p in pages)
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{name}/{student}: a feedback page shows hidden test code: {leaked[:2]}"
        if student in kept:
            if kept[student].why not in text:
                unnamed.append(student)
            wrong += [f"{student} named as {other}" for other, m in kept.items()
                      if other != student and m.why != kept[student].why and m.why in text]
            continue
        graded = [nbformat.read(p, as_version=4)
                  for p in sorted((tmp_path / "course" / "autograded" / student / name).glob("*.ipynb"))]
        for notebook in graded:
            for cell in notebook.cells:
                if not cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                    continue
                lost = report.students[student].cells.get(cell.metadata.nbgrader.grade_id) == 0.0
                said = "".join(o.get("text", "") + o.get("evalue", "") for o in cell.get("outputs", []))
                assert not lost or said.strip(), f"{name}/{student} {cell.metadata.nbgrader.grade_id}: lost, no line"
                assert "[hidden test failed] \n" not in said and "[hidden test failed]\n" not in said
    assert not wrong, f"{name}: {wrong}"
    assert not unnamed, f"{name}: these kept mistakes were not named in their feedback: {unnamed}"
