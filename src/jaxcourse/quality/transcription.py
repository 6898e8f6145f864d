"""`jaxcourse transcription`: how much of each task's solution is already in a chapter's code?

An exercise should make the student transfer a chapter's idea, not retype its cells. For each
task, the code between `### BEGIN SOLUTION` and `### END SOLUTION` is cut into tokens (Python's
`tokenize`: comments, line breaks and indentation dropped, names, keywords and operators kept,
every number and string literal replaced by a placeholder) and then into runs of `N` tokens. The
task's *transcription* is the largest fraction of its runs found among the runs of one chapter's
code cells (the maximum over chapters). A task is *mostly transcribed* when that fraction is at
least `MOSTLY`; the course passes when at most `LIMIT` of all tasks are.
"""

from __future__ import annotations

import io
import token
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from jaxcourse.course import assignments

N = 5
MOSTLY = 0.6
LIMIT = 0.15
CHAPTERS = "chapters"
SKIPPED = {token.COMMENT, token.NL, token.NEWLINE, token.INDENT, token.DEDENT, token.ENCODING,
           token.ENDMARKER}
PLACEHOLDERS = {token.NUMBER: "<num>", token.STRING: "<str>"}
for _name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END"):  # Python 3.12 splits f-strings
    if hasattr(token, _name):
        PLACEHOLDERS[getattr(token, _name)] = "<str>"


def _python_only(code: str) -> str:
    """The code with IPython-only lines (`%magic`, `!shell`, `?help`) blanked."""
    return "\n".join("" if line.lstrip().startswith(("%", "!", "?")) else line for line in code.splitlines())


def tokens(code: str) -> list[str]:
    """The code's tokens with comments, layout and literal values left out."""
    found: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(_python_only(code) + "\n").readline):
            if tok.type in SKIPPED:
                continue
            if tok.type in PLACEHOLDERS:
                if not (found and found[-1] == "<str>" and PLACEHOLDERS[tok.type] == "<str>"):
                    found.append(PLACEHOLDERS[tok.type])  # an f-string's parts make one literal
                continue
            found.append(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # keep what came before the broken line: a chapter cell may show an error on purpose
    return found


def ngrams(code: str, n: int = N) -> list[tuple[str, ...]]:
    words = tokens(code)
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def solution_block(source: str) -> str:
    """Only the lines between the BEGIN/END SOLUTION markers (the whole cell if it has none)."""
    lines, inside, seen = [], False, False
    for line in source.splitlines():
        if line.strip() == assignments.BEGIN_SOLUTION:
            inside = seen = True
        elif line.strip() == assignments.END_SOLUTION:
            inside = False
        elif inside:
            lines.append(line)
    return "\n".join(lines) if seen else source


def chapter_ngrams(root: Path) -> dict[str, set[tuple[str, ...]]]:
    """{chapter name: the runs of N tokens in its code cells}, each cell cut on its own."""
    found = {}
    for path in sorted((root / CHAPTERS).glob("*.ipynb")):
        runs: set[tuple[str, ...]] = set()
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                runs.update(ngrams(cell.source))
        found[path.stem] = runs
    return found


def share(code: str, chapters: dict[str, set[tuple[str, ...]]]) -> tuple[float, str]:
    """(largest fraction of the code's runs found in one chapter, that chapter); (0, '') if none."""
    runs = ngrams(code)
    if not runs:
        return 0.0, ""
    best, where = 0.0, ""
    for name, known in chapters.items():
        fraction = sum(run in known for run in runs) / len(runs)
        if fraction > best:
            best, where = fraction, name
    return best, where


@dataclass(frozen=True)
class TaskShare:
    task: str
    fraction: float
    chapter: str

    @property
    def mostly(self) -> bool:
        return self.fraction >= MOSTLY


@dataclass
class AssignmentShare:
    assignment: str
    tasks: list[TaskShare] = field(default_factory=list)

    @property
    def transcribed(self) -> int:
        return sum(t.mostly for t in self.tasks)

    @property
    def share(self) -> float:
        return self.transcribed / len(self.tasks) if self.tasks else 0.0


def solutions(root: Path, name: str) -> dict[str, str]:
    """{task grade_id: its solution block} for one assignment."""
    found = {}
    for path in sorted(assignments.assignment_folder(root, name).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and assignments.TASK_ID.match(meta.get("grade_id", "")):
                found[meta["grade_id"]] = solution_block(cell.source)
    return found


def measure(root: Path, names: list[str] | None = None,
            chapters: dict[str, set[tuple[str, ...]]] | None = None) -> list[AssignmentShare]:
    chapters = chapter_ngrams(root) if chapters is None else chapters
    report = []
    for name in names or assignments.assignment_names(root):
        found = AssignmentShare(name)
        for task, code in sorted(solutions(root, name).items()):
            found.tasks.append(TaskShare(task, *share(code, chapters)))
        report.append(found)
    return report


def overall(report: list[AssignmentShare]) -> float:
    total = sum(len(a.tasks) for a in report)
    return sum(a.transcribed for a in report) / total if total else 0.0


def table(report: list[AssignmentShare], *, detail: bool = False) -> str:
    lines = [f"{'assignment':<20} {'tasks':>5} {'transcribed':>12} {'share':>6}"]
    for a in report:
        lines.append(f"{a.assignment:<20} {len(a.tasks):>5} {a.transcribed:>12} {a.share:>6.0%}")
        if detail:
            for t in a.tasks:
                mark = "  <- mostly in " + t.chapter if t.mostly else ""
                lines.append(f"  {t.task:<28} {t.fraction:>5.0%}{mark}")
    total = sum(len(a.tasks) for a in report)
    transcribed = sum(a.transcribed for a in report)
    verdict = "pass" if overall(report) <= LIMIT else "FAIL"
    lines.append(f"{'all':<20} {total:>5} {transcribed:>12} {overall(report):>6.0%}  "
                 f"({verdict}: at most {LIMIT:.0%} of tasks with >= {MOSTLY:.0%} of their "
                 f"{N}-token runs in one chapter)")
    return "\n".join(lines)
