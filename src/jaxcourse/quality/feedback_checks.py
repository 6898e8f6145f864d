"""What `validate` proves of the feedback pages (the graded notebooks nbgrader renders): each kept
mistake is named by its own `why` and no other; every lost test part of the untouched release and
of each notebook of kept answers says something; no page shows a line of hidden
test code."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from jaxcourse.course.assignments import SOURCE
from jaxcourse.grading.intake import submissions
from jaxcourse.grading.verdicts import behaviour


def hidden_lines(root: Path, name: str) -> list[str]:
    """Lines of hidden test code (a line that is only a string, a check's description on a line of
    its own, is what a page may show)."""
    found, shown = [], set()
    for path in sorted((root / SOURCE / name).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            visible, secret = submissions.split_hidden(cell.source)
            shown |= {line.strip() for line in visible.splitlines()}
            found += [line.strip() for line in secret.splitlines() if len(line.strip()) > 25]
    return [" ".join(line.split()) for line in found if line not in shown and not _only_a_string(line)]


def _only_a_string(line: str) -> bool:
    try:
        body = ast.parse(line.rstrip(",)")).body
    except SyntaxError:
        return False
    return len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant | ast.JoinedStr)


def _pages(course: Path, student: str, name: str) -> list:
    return [nbformat.read(p, as_version=4) for p in sorted((course / "autograded" / student / name).glob("*.ipynb"))]


def _said(cell) -> str:
    """What a cell's outputs say, on one line (the grader folds its lines to the page's width)."""
    return " ".join("".join(o.get("text", "") + " " + o.get("evalue", "") + " " +
                            str(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", [])).split())


def check(root: Path, name: str, course: Path, report, named: dict[str, list], lines_for: list[str]) -> list:
    """(check, ok, detail) for each: `named` maps a student to the kept mistakes it holds, each with
    its task's test cells, [(cells, mistake)]; `lines_for` lists students whose every lost part must
    say something."""
    secret = hidden_lines(root, name)
    whys = {" ".join(m.why.split()) for held in named.values() for _, m in held}
    found = []
    recorded = behaviour.load(root, name).get("mistakes", {})
    if not recorded:
        found.append(("behaviour-recorded", False, f"{name}: no current behaviour.json: run `make mistakes`"))
    for student in dict.fromkeys([*named, *lines_for]):
        pages = _pages(course, student, name)
        text = "\n".join(_said(c) for page in pages for c in page.cells)
        leaked = [line for line in secret if line in text]
        if leaked:
            found.append((f"hidden-code-{student}", False, f"its feedback shows hidden test code: {leaked[0]}"))
        found += [_named(pages, cells, mistake, whys, recorded) for cells, mistake in named.get(student, [])]
        if student not in lines_for:
            continue
        silent = [c.metadata.nbgrader.grade_id for page in pages for c in page.cells
                  if c.get("metadata", {}).get("nbgrader", {}).get("grade")
                  and report.students[student].cells.get(c.metadata.nbgrader.grade_id) == 0.0 and not _said(c).strip()]
        found.append((f"lines-{student}", not silent,
                      f"a lost test part says nothing: {', '.join(silent)}" if silent else "every lost part says why"))
    return found


def _named(pages: list, cells, mistake, whys: set[str], recorded: dict) -> tuple[str, bool, str]:
    """Whether its task's test cells name the kept mistake by its own `why`, and no other."""
    text = "\n".join(_said(c) for page in pages for c in page.cells
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") in cells)
    own = " ".join(mistake.why.split())
    others = sorted(w for w in whys if w != own and w in text)
    kept = recorded.get(mistake.path.stem)
    nameable = kept is not None and behaviour.named_mistake(
        kept["behaviour"], {"mistakes": recorded}, kept["task"]) is kept
    check = f"named-mistake-{mistake.path.stem}"
    if others:
        return check, False, f"named as another mistake: {others[0]}"
    if nameable:
        return check, own in text, "its feedback names it" if own in text else "its feedback does not name it"
    # never a guess: it is not named, and said so here
    return check, own not in text, ("not nameable: too few distinct numbers cross on its task's tests, "
                                    "or another kept mistake behaves alike")
