"""`jaxcourse bench grading`: the same class graded by plain nbgrader and by `jaxcourse grade`.

K synthetic submissions of a real assignment (the solution, the untouched release and the kept
wrong answers, in turn) are graded three ways in one run: plain sequential `nbgrader autograde`,
`jaxcourse grade` with N workers and no shared compilation cache, and `jaxcourse grade` with N
workers reading the solution's compiled code from a read-only cache. It prints seconds per
submission, the ratios, whether the three agree on every score, and the per-notebook floor
(start a sandboxed kernel, import JAX, run one operation).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from jaxcourse.course import assignments, release
from jaxcourse.grading import pipeline, plain_nbgrader, submissions
from jaxcourse.grading.kernel import Kernel
from jaxcourse.grading.sandbox import Sandbox


def synthetic_class(root: Path, name: str, size: int) -> dict[str, dict[str, nbformat.NotebookNode]]:
    source = root / assignments.SOURCE / name
    release = root / assignments.RELEASE / name
    notebooks = sorted(p.name for p in source.glob("*.ipynb"))
    solved = {nb: assignments.solved(source / nb, release / nb) for nb in notebooks}
    variants = [solved, {nb: nbformat.read(release / nb, as_version=4) for nb in notebooks}]
    by_notebook = {t.grade_id: t.notebook for t in assignments.tasks(root, name)}
    for mistake in assignments.mistakes(root, name):
        notebook = by_notebook[mistake.task]
        variants.append({**solved, notebook: assignments.with_answer(solved[notebook], mistake.task, mistake.code)})
    return {f"student-{i:03d}": variants[i % len(variants)] for i in range(size)}


@dataclass
class Timed:
    label: str
    seconds: float
    totals: dict


def _plain_nbgrader(root: Path, name: str, students: dict, tmp: Path) -> Timed:
    course = release.generate(root, name, tmp / "plain")
    start = time.perf_counter()
    scores = plain_nbgrader.autograde(course, name, students)
    return Timed("nbgrader autograde, sequential", time.perf_counter() - start, scores.totals)


def _jaxcourse(root: Path, name: str, students: dict, tmp: Path, workers: int, cache: bool) -> Timed:
    folder = submissions.write_class(tmp / f"submitted-{cache}", students)
    start = time.perf_counter()
    report = pipeline.grade(root, name, folder, course=tmp / f"course-{cache}", workers=workers, cache=cache,
                          progress=False)
    label = f"jaxcourse grade, {workers} workers" + ("" if cache else ", no cache")
    if cache:
        label += ", read-only cache"
    return Timed(label, time.perf_counter() - start, {s: r.score for s, r in report.students.items()})


def kernel_floor(repeats: int = 3) -> tuple[float, float, str]:
    """Median seconds to a ready sandboxed kernel, and to JAX imported and one op run in it."""
    box = Sandbox()
    starts, firsts = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="jc-") as tmp:
            kernel = Kernel(box, Path(tmp))
            begin = time.perf_counter()
            try:
                kernel.start()
                ready = time.perf_counter()
                outcome, _ = kernel.execute("import jax.numpy as jnp\njnp.ones(3).sum().block_until_ready()",
                                            timeout=120)
                if outcome.status != "ok":
                    raise assignments.CourseError(f"kernel floor probe failed: {outcome.error}")
                starts.append(ready - begin)
                firsts.append(time.perf_counter() - begin)
            finally:
                kernel.kill()
    return statistics.median(starts), statistics.median(firsts), box.isolation


def run(quick: bool = False, name: str = "01_xor", size: int | None = None, workers: int | None = None) -> str:
    root = assignments.course_root()
    size = size or (4 if quick else 16)
    workers = workers or os.cpu_count() or 1
    students = synthetic_class(root, name, size)
    with tempfile.TemporaryDirectory(prefix="jc-bench-") as tmp:
        tmp = Path(tmp)
        rows = [_plain_nbgrader(root, name, students, tmp),
                _jaxcourse(root, name, students, tmp, workers, cache=False),
                _jaxcourse(root, name, students, tmp, workers, cache=True)]
    ready, first_op, isolation = kernel_floor(2 if quick else 3)
    base = rows[0].seconds
    lines = [f"grading {size} synthetic submissions of {name} on {os.cpu_count()} cores "
             f"(isolation: {isolation}); wall time includes everything each command does",
             f"{'method':<52} {'total':>9} {'per submission':>15} {'speed-up':>9}"]
    for row in rows:
        lines.append(f"{row.label:<52} {row.seconds:>8.1f}s {row.seconds / size:>14.2f}s {base / row.seconds:>8.1f}x")
    agree = all(row.totals == rows[0].totals for row in rows[1:])
    lines.append(f"same score for every submission by all three: {'yes' if agree else 'NO'}")
    if not agree:
        for student in sorted(rows[0].totals):
            seen = [row.totals.get(student) for row in rows]
            if len(set(seen)) > 1:
                lines.append(f"  {student}: {seen}")
    lines.append(f"per-notebook floor (median): sandboxed kernel ready in {ready:.2f} s; "
                 f"with JAX imported and one op run {first_op:.2f} s")
    return "\n".join(lines)
