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
from jaxcourse.grading import pipeline, plain_nbgrader
from jaxcourse.grading.intake import submissions
from jaxcourse.grading.sandbox.kernel import Kernel
from jaxcourse.grading.sandbox.settings import Sandbox

CLASS = 200  # the class size the whole-course line projects to


def synthetic_class(root: Path, name: str, size: int) -> dict[str, dict[str, nbformat.NotebookNode]]:
    release = root / assignments.RELEASE / name
    solved = assignments.solved_assignment(root, name)
    variants = [solved, {nb: nbformat.read(release / nb, as_version=4) for nb in solved}]
    variants += [assignments.with_mistake(root, name, solved, m) for m in assignments.mistakes(root, name)]
    return {f"student-{i:03d}": variants[i % len(variants)] for i in range(size)}


@dataclass
class Timed:
    label: str
    seconds: float
    totals: dict
    size: int
    cell_seconds: float = 0.0  # all notebooks' cells, as timed by the grader
    kernel_seconds: float = 0.0  # all notebooks' runs in their kernels (start to kill)

    @property
    def per_submission(self) -> float:
        return self.seconds / self.size


def _plain_nbgrader(root: Path, name: str, students: dict, tmp: Path) -> Timed:
    course = release.generate(root, name, tmp / "plain")
    start = time.perf_counter()
    scores = plain_nbgrader.autograde(course, name, students)
    return Timed("nbgrader autograde, sequential", time.perf_counter() - start, scores.totals, len(students))


def _jaxcourse(root: Path, name: str, students: dict, tmp: Path, workers: int, warm: bool,
               cache: bool = True) -> Timed:
    label = f"jaxcourse grade, {workers} workers, {'warm' if warm else 'cold'} kernels"
    folder = submissions.write_class(tmp / label.replace(" ", "").replace(",", "-"), students)
    start = time.perf_counter()
    report = pipeline.grade(root, name, folder, course=tmp / f"course-{warm}-{cache}", workers=workers,
                            cache=cache, progress=False, warm=warm)
    seconds = time.perf_counter() - start
    records = report.students.values()
    return Timed(label, seconds, {s: r.score for s, r in report.students.items()}, len(students),
                 sum(r.cell_seconds for r in records), sum(r.seconds for r in records))


def kernel_floor(repeats: int = 3, warm: bool = True) -> tuple[float, float, str]:
    """Median seconds to a ready sandboxed kernel, and to JAX imported and one op run in it."""
    box = Sandbox(warm=warm)
    starts, firsts = [], []
    for _ in range(repeats + 1):  # the first warm one also starts the zygote: not counted
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
    return statistics.median(starts[1:]), statistics.median(firsts[1:]), box.isolation


@dataclass
class Measured:
    name: str
    plain: Timed
    rows: list[Timed]

    def agree(self) -> list[str]:
        """Students whose score differs between plain nbgrader (its sample) and any other row."""
        return sorted(s for s, total in self.plain.totals.items()
                      if any(row.totals.get(s) != total for row in self.rows))


def measure(root: Path, name: str, size: int, sample: int, workers: int, cold: bool, tmp: Path) -> Measured:
    students = synthetic_class(root, name, size)
    sampled = dict(list(students.items())[:sample])
    plain = _plain_nbgrader(root, name, sampled, tmp / name)
    rows = [_jaxcourse(root, name, students, tmp / name, workers, warm=True)]
    if cold:
        rows.append(_jaxcourse(root, name, students, tmp / name, workers, warm=False))
    return Measured(name, plain, rows)


def table(results: list[Measured], workers: int, size: int) -> list[str]:
    lines = [f"{'assignment':<16} {'method':<40} {'subs':>5} {'s/sub':>7} {'speed-up':>8} "
             f"{'cells/nb':>9} {'overhead/nb':>11} {'fixed/run':>9}"]
    for result in results:
        plain = result.plain
        lines.append(f"{result.name:<16} {'plain nbgrader (sample)':<40} {plain.size:>5} {plain.per_submission:>6.2f}s "
                     f"{'1.0x':>8}")
        for row in result.rows:
            notebooks = max(1, row.size)
            cells = row.cell_seconds / notebooks
            overhead = (row.kernel_seconds - row.cell_seconds) / notebooks
            fixed = max(0.0, row.seconds - row.kernel_seconds / workers)
            lines.append(f"{'':<16} {row.label:<40} {row.size:>5} {row.per_submission:>6.2f}s "
                         f"{plain.per_submission / row.per_submission:>7.1f}x {cells:>8.2f}s {overhead:>10.2f}s "
                         f"{fixed:>8.1f}s")
        differ = result.agree()
        lines.append(f"{'':<16} same score for every sampled submission: "
                     f"{'yes' if not differ else 'NO: ' + ', '.join(differ)}")
    if len(results) > 1:
        at = max(size, CLASS)
        rows = [r.rows[0] for r in results]
        # fixed costs grow slower than the class (a + b n), so fixed/size at this size bounds them above
        projected = sum(row.kernel_seconds / row.size / workers
                        + max(0.0, row.seconds - row.kernel_seconds / workers) / row.size for row in rows) * at
        cells = sum(row.cell_seconds / row.size / workers for row in rows) * at
        plain = sum(r.plain.per_submission for r in results) * at
        lines.append(f"the whole course, {at} submissions of each of {len(results)} assignments, from these "
                     f"figures: jaxcourse at most {projected / 60:.1f} min, of which the notebooks' own cells "
                     f"{cells / 60:.1f} min; plain nbgrader {plain / 60:.1f} min")
    return lines


def run(quick: bool = False, names: list[str] | None = None, every: bool = False, size: int | None = None,
        sample: int | None = None, workers: int | None = None, cold: bool = False) -> str:
    """`names`: the assignments (default 01_xor; `every`: all of them); `sample`: how many of the
    class plain nbgrader grades for the ratio (default all of it, at most 16); `cold`: also grade
    with a fresh Python per kernel, to see what the zygote saves."""
    root = assignments.course_root()
    if any(n is not None and n < 1 for n in (size, sample, workers)):
        raise assignments.CourseError("--size, --sample and --workers need at least 1")
    names = assignments.assignment_names(root) if every else (names or ["01_xor"])
    for name in names:
        assignments.assignment_folder(root, name)
    size = size or (4 if quick else 16)
    sample = min(size, sample or (4 if quick else 16))
    workers = workers or os.cpu_count() or 1
    results = []
    with tempfile.TemporaryDirectory(prefix="jc-bench-") as tmp:
        for name in names:
            results.append(measure(root, name, size, sample, workers, cold, Path(tmp)))
    ready, first_op, isolation = kernel_floor(2 if quick else 3)
    cold_ready, cold_first, _ = kernel_floor(2 if quick else 3, warm=False)
    lines = [f"grading synthetic classes on {os.cpu_count()} cores with {workers} workers (isolation: "
             f"{isolation}); s/sub: wall time per submission, everything each command does included;",
             "cells/nb: a notebook's cells as the grader timed them; overhead/nb: the rest of its run in "
             "the sandbox (kernel start, guard, stop); fixed/run: wall time outside the workers' runs",
             *table(results, workers, size),
             f"per-notebook floor (median): warm kernel ready in {ready:.2f} s, JAX op run {first_op:.2f} s; "
             f"cold kernel ready in {cold_ready:.2f} s, JAX op run {cold_first:.2f} s"]
    return "\n".join(lines)
