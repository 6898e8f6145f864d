"""`jaxcourse report ASSIGNMENT`: one HTML page about a grading run, for the instructor.

Read from what `jaxcourse grade` left in its course folder (the gradebook, the graded notebooks
and the grader's state file), never from a re-run: the score distribution overall and per task,
each task's mean, spread and discrimination (the correlation of its score with the rest of the
assignment), the most common failure per task (exception type and message with numbers and
quoted text blanked, counted), who did not submit, grading time per notebook, and pairs of
students whose answers are nearly identical after normalising names and literals (evidence for
a human, never a penalty).
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

from jaxcourse.course import assignments
from jaxcourse.grading.out import similarity
from jaxcourse.grading.out.gradebook import STATE
from jaxcourse.grading.out.summary import NOT_SUBMITTED, Student, label


@dataclass
class Failure:
    task: str
    kind: str
    count: int


def _normalize_message(ename: str, evalue: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", evalue.splitlines()[0] if evalue else "")
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "N", text)
    return f"{ename}: {text}"[:140] if text else ename


def correlation(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3 or statistics.pstdev(xs) == 0 or statistics.pstdev(ys) == 0:
        return None
    return statistics.correlation(xs, ys)


def _figure(draw) -> str:
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    draw(ax)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _graded_notebooks(course: Path, assignment: str) -> dict[str, list[nbformat.NotebookNode]]:
    found: dict[str, list] = {}
    for path in sorted((course / "autograded").glob(f"*/{assignment}/*.ipynb")):
        found.setdefault(path.parts[-3], []).append(nbformat.read(path, as_version=4))
    return found


def failures(notebooks: dict[str, list], tasks: list[assignments.Task]) -> dict[str, Counter]:
    """{task: Counter(normalized error)} from the error outputs of graded test cells."""
    task_of = {cell: t.grade_id for t in tasks for cell in t.tests}
    found: dict[str, Counter] = {t.grade_id: Counter() for t in tasks}
    for books in notebooks.values():
        for notebook in books:
            for cell in notebook.cells:
                task = task_of.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
                if task is None or cell.cell_type != "code":
                    continue
                errors = [o for o in cell.outputs if o.get("output_type") == "error"]
                grader_notes = [o for o in cell.outputs if o.get("output_type") == "stream"
                                and o.get("text", "").startswith("[grader]")]
                hidden = [o for o in cell.outputs if o.get("output_type") == "stream"
                          and o.get("text", "").startswith("[hidden test failed]")]
                if errors:
                    found[task][_normalize_message(errors[0]["ename"], errors[0].get("evalue", ""))] += 1
                elif hidden:
                    line = " ".join(hidden[0]["text"].split("\n(")[0].split())
                    found[task][_normalize_message("hidden", line.removeprefix("[hidden test failed] "))] += 1
                elif grader_notes:
                    found[task][_normalize_message("grader", grader_notes[0]["text"][9:])] += 1
    return found


def answers(notebooks: dict[str, list]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for student, books in notebooks.items():
        for notebook in books:
            for cell in notebook.cells:
                meta = cell.metadata.get("nbgrader", {})
                if meta.get("solution") and cell.cell_type == "code":
                    found.setdefault(student, {})[meta["grade_id"]] = cell.source
    return found


def _without_comments(code: str) -> str:
    """An answer to show as an example: its comments (where a name may hide) dropped."""
    import io as _io
    import tokenize

    try:
        tokens = [t for t in tokenize.generate_tokens(_io.StringIO(code).readline) if t.type != tokenize.COMMENT]
        return tokenize.untokenize(tokens).strip()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "\n".join(line for line in code.splitlines() if not line.lstrip().startswith("#")).strip()


def mistakes_section(assignment: str, tasks: list, submitted: dict[str, Student], code: dict) -> list[str]:
    """How many lost points came with a named kept mistake, and the largest groups of failing
    answers that behave alike and match none, with an example each and how to keep it."""
    points = {t.grade_id: t.points for t in tasks}
    last_cell = {t.grade_id: list(t.tests)[-1] for t in tasks if t.tests}
    lost = named = 0.0
    groups: dict[tuple[str, str], list[str]] = {}
    for student, record in submitted.items():
        for task, key in record.lost.items():
            missing = points.get(task, 0.0) - sum(record.cells.get(c, 0.0) for c in next(
                (t.tests for t in tasks if t.grade_id == task), {}))
            lost += missing
            if last_cell.get(task) in record.named:
                named += missing
            else:
                groups.setdefault((task, key), []).append(student)
    parts = ["<h2>Known mistakes</h2>",
             f"<p>{named:g} of {lost:g} lost points came with a named known mistake in the feedback.</p>"]
    largest = sorted(groups.items(), key=lambda item: -len(item[1]))[:5]
    if not largest:
        return parts
    parts.append("<p>The largest groups of failing answers that behave alike (the same outcome and values on "
                 "every test) and match no kept mistake, one example each. To have the next run name one, save "
                 f"the answer as <code>tests/mistakes/{html.escape(assignment)}/&lt;short_name&gt;.py</code> "
                 "starting with <code># task: &lt;task&gt;</code>, <code># why: &lt;the misconception, one "
                 "line&gt;</code> and <code># see: &lt;chapter&gt; §&lt;section&gt;</code>, then run "
                 "<code>make mistakes</code>.</p><table><tr><th>task</th><th>answers</th><th>example</th></tr>")
    for (task, _), who in largest:
        example = _without_comments(code.get(who[0], {}).get(task, ""))
        parts.append(f"<tr><td>{html.escape(task)}</td><td>{len(who)}</td>"
                     f"<td><pre>{html.escape(example[:1500])}</pre></td></tr>")
    parts.append("</table>")
    return parts


def build(root: Path, assignment: str, course: Path, *, threshold: float = 0.9, min_tokens: int = 40) -> str:
    """The report as one self-contained HTML page."""
    path = course / STATE / f"{assignment}.json"
    if not path.is_file():
        raise assignments.CourseError(f"no grading run of {assignment} in {course}: run `jaxcourse grade` first")
    kept = json.loads(path.read_text())
    state = kept["students"]
    tasks = assignments.tasks(root, assignment)
    # only who is in the last run (its submissions and roster): never a student of a mistaken run
    present = set(kept["present"]) if "present" in kept else set(state)
    students = {s: Student(**record) for s, record in sorted(state.items()) if s in present}
    submitted = {s: r for s, r in students.items() if r.zero_reason != NOT_SUBMITTED}
    missing = sorted(set(students) - set(submitted))
    notebooks = _graded_notebooks(course, assignment)
    max_score = sum(t.points for t in tasks)
    totals = {s: r.score for s, r in submitted.items()}
    per_task = {t.grade_id: {s: sum(r.cells.get(c, 0.0) for c in t.tests) for s, r in submitted.items()}
                for t in tasks}
    counted = failures(notebooks, tasks)
    pairs = similarity.similar_pairs(answers(notebooks), threshold=threshold, min_tokens=min_tokens)
    parts = [f"<h1>{html.escape(assignment)}: grading report</h1>",
             f"<p>{len(students)} students, {len(submitted)} submitted, out of {max_score:g} points.</p>"]
    if totals:
        values = list(totals.values())
        parts.append(f"<p>Total: mean {statistics.mean(values):.2f}, sd {statistics.pstdev(values):.2f}, "
                     f"median {statistics.median(values):g}.</p>")
        distribution = _figure(lambda ax: (ax.hist(values, bins=min(20, max(5, int(max_score) + 1)),
                                                   range=(0, max_score), color="#3b6ea5", edgecolor="white"),
                                           ax.set_xlabel("total score"), ax.set_ylabel("students"),
                                           ax.set_title("Score distribution")))
        parts.append(f'<img alt="score distribution" src="data:image/png;base64,{distribution}">')

        def task_plot(ax):
            fractions = [[v / t.points for v in per_task[t.grade_id].values()] for t in tasks]
            ax.boxplot(fractions)
            ax.set_xticks(range(1, len(tasks) + 1), [t.grade_id.split("-", 2)[-1] for t in tasks])
            ax.set_ylabel("fraction of points")
            ax.set_ylim(-0.05, 1.05)
            ax.set_title("Per task")

        parts.append(f'<img alt="scores per task" src="data:image/png;base64,{_figure(task_plot)}">')
    rows = []
    for t in tasks:
        scores = per_task[t.grade_id]
        rest = [totals[s] - scores[s] for s in scores]
        r = correlation(list(scores.values()), rest)
        top = counted[t.grade_id].most_common(3)
        common = "<br>".join(f"{html.escape(kind)} ({count})" for kind, count in top) or "none"
        mean = statistics.mean(scores.values()) if scores else 0.0
        spread = statistics.pstdev(scores.values()) if len(scores) > 1 else 0.0
        rows.append(f"<tr><td>{t.grade_id}</td><td>{t.points:g}</td><td>{mean:.2f}</td><td>{spread:.2f}</td>"
                    f"<td>{'n/a' if r is None else f'{r:.2f}'}</td><td>{common}</td></tr>")
    parts.append("<h2>Tasks</h2><table><tr><th>task</th><th>points</th><th>mean</th><th>sd</th>"
                 "<th>discrimination</th><th>most common failures (count)</th></tr>" + "".join(rows) + "</table>")
    parts += mistakes_section(assignment, tasks, submitted, answers(notebooks))
    named = ", ".join(label(s, students[s]) for s in missing)
    parts.append("<h2>Did not submit</h2>" + (f"<p>{html.escape(named)}</p>" if missing else "<p>none</p>"))
    late = [(s, r) for s, r in students.items() if r.late_days]
    if late or kept.get("policy", {}).get("due"):
        policy = kept.get("policy", {})
        parts.append(f"<h2>Late</h2><p>Due {html.escape(policy.get('due', ''))}; "
                     f"{policy.get('per_day', 0):g}% per started day, at most {policy.get('cap', 100):g}%.</p>"
                     "<table><tr><th>student</th><th>submitted</th><th>days late</th><th>points lost</th></tr>"
                     + "".join(f"<tr><td>{html.escape(label(s, r))}</td><td>{html.escape(r.submitted_at)}</td>"
                               f"<td>{r.late_days}</td><td>{r.penalty:g}</td></tr>" for s, r in late) + "</table>")
    strangers = [label(s, r) for s, r in students.items() if r.roster == "off"]
    if strangers:
        parts.append(f"<h2>Not on the roster</h2><p>{html.escape(', '.join(strangers))}</p>")
    times = sorted(((r.seconds, s) for s, r in submitted.items() if r.seconds), reverse=True)
    if times:
        seconds = [t for t, _ in times]
        parts.append(f"<h2>Grading time per notebook</h2><p>median {statistics.median(seconds):.1f} s, "
                     f"max {seconds[0]:.1f} s ({html.escape(times[0][1])}).</p><table><tr><th>student</th>"
                     "<th>seconds</th></tr>" + "".join(f"<tr><td>{html.escape(s)}</td><td>{t:.1f}</td></tr>"
                                                      for t, s in times[:10]) + "</table>")
    parts.append(f"<h2>Similar answers</h2><p>Pairs whose answer cells are nearly identical once names, "
                 f"literals, comments and layout are normalised (similarity at least {threshold:g}, cells of "
                 f"{min_tokens}+ tokens). Evidence to look at, not a verdict.</p>")
    if pairs:
        parts.append("<table><tr><th>students</th><th>cell</th><th>similarity</th></tr>" + "".join(
            f"<tr><td>{html.escape(p.first)} &amp; {html.escape(p.second)}</td><td>{p.cell}</td>"
            f"<td>{p.score:.2f}</td></tr>" for p in pairs) + "</table>")
    else:
        parts.append("<p>none above the threshold</p>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
             "img{max-width:100%}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(assignment)} report</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


def write(root: Path, assignment: str, course: Path, output: Path | None = None, **options) -> Path:
    output = output or course / f"report-{assignment}.html"
    output.write_text(build(root, assignment, course, **options))
    return output
