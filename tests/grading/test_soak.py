"""A class at class size, graded in one run: every honest student right, an end within a bound,
nothing left running. `make soak` grades 200 notebooks of 01_xor (run it several times in a row);
`make test` a short class (10, 2 hostile) with more workers than cores, so many test parts run at once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hostile_cases import ASSIGNMENT, CASES, NOTEBOOK, Context

from jaxcourse.grading import pipeline
from jaxcourse.grading.sandbox.settings import CGROUPS, Limits, namespaces_available

ROOT = Path(__file__).resolve().parents[2]
# per 20 students: 9 who solved it, 9 who handed in the release, 2 hostile (10%), in turn one of these
HOSTILE = ["infinite-loop", "sys-exit", "output-flood", "memory-blowup", "not-json"]
LIMITS = Limits(cell_seconds=60, notebook_seconds=300, memory_bytes=int(1.5 * 2**30))
# the short class's endless loop waits out its cell's limit (01_xor's slowest cell takes under a second)
SHORT_LIMITS = Limits(cell_seconds=15, notebook_seconds=240, memory_bytes=int(1.5 * 2**30))
# 10 students, 2 of them hostile: the first two kinds of HOSTILE, as in every class of 20
SHORT_CLASS = ["solution"] * 4 + ["release"] * 4 + HOSTILE[:2]


def _kinds(size: int) -> list[str]:
    """Per 20 students: 9 who solved it, 9 who handed in the release, 2 hostile (HOSTILE in turn)."""
    kinds, hostile = [], 0
    for i in range(size):
        slot = i % 20
        kinds.append("solution" if slot < 9 else "release" if slot < 18 else HOSTILE[hostile % len(HOSTILE)])
        hostile += kinds[-1] in HOSTILE
    return kinds


def _class(tmp_path: Path, kinds: list[str]) -> tuple[Path, dict[str, float]]:
    isolation = "namespaces" if namespaces_available() else "process"
    ctx = Context(ROOT, tmp_path / "course", tmp_path / "submissions", 0, isolation=isolation)
    cases = {c.name: c for c in CASES if c.name in ["solution", "release", *HOSTILE]}
    files = {name: case.build(ctx) for name, case in cases.items()}
    expected = {}
    for i, kind in enumerate(kinds):
        student = f"s{i:03d}-{kind}"
        for name, data in files[kind].items():
            path = ctx.submissions / student / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        expected[student] = cases[kind].expected_in(isolation)[0]
    return ctx.submissions, expected


def _left_running() -> list[str]:
    """This process's kernels, folders, mounts and cgroups still there after a run."""
    me = os.getpid()
    left = [str(p) for p in Path("/tmp").glob(f"jc-{me}-*")] + [str(p) for p in Path("/tmp").glob(f"jc-zygote-{me}-*")]
    left += [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
             if f"/jc-{me}-" in line]
    left += [str(p) for p in CGROUPS.glob(f"**/jaxcourse-{me}-*")]
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(me) and not fields.get("State", "").startswith("Z"):
            left.append(f"process {status.parent.name}: {fields.get('Name', '').strip()}")
    return left


def soak(tmp_path: Path, kinds: list[str], workers: int, limits: Limits = LIMITS) -> None:
    size = len(kinds)
    submitted, expected = _class(tmp_path, kinds)
    start = time.monotonic()
    report = pipeline.grade(ROOT, ASSIGNMENT, submitted, course=tmp_path / "course", workers=workers,
                            limits=limits, progress=size > 50)
    wall = time.monotonic() - start
    hostile = sum(any(h in s for h in HOSTILE) for s in expected)
    print(f"\nsoak: {size} notebooks of {ASSIGNMENT} ({hostile} hostile), {report.workers} workers, isolation "
          f"{report.isolation}: {wall:.0f} s, {size / wall:.2f} notebooks a second, {wall / size:.2f} s a notebook")
    wrong = {s: (r.score, expected[s]) for s, r in report.students.items() if r.score != expected[s]}
    assert not wrong, f"{len(wrong)} students got another score (got, expected): {dict(list(wrong.items())[:10])}"
    # a run before this one that was killed outright may have left something for this one to sweep
    assert not [w for w in report.warnings if not w.startswith("cleaned up")], report.warnings
    bound = 120 + 5.0 * size  # this machine (2 cores) takes about 2 s a notebook
    assert wall < bound, f"{size} notebooks took {wall:.0f} s, over the bound of {bound:.0f} s"
    left = _left_running()
    assert not left, f"left after the run: {left[:10]}"
    assert NOTEBOOK


@pytest.mark.slow
def test_a_short_class_with_more_workers_than_cores(tmp_path):
    soak(tmp_path, SHORT_CLASS, workers=4, limits=SHORT_LIMITS)


@pytest.mark.soak
def test_a_class_of_200(tmp_path):
    soak(tmp_path, _kinds(int(os.environ.get("SOAK_SIZE", "200"))), workers=int(os.environ.get("SOAK_WORKERS", "0")) or None)
