"""The grading bench (`jaxcourse bench grading`) builds a mixed class of real submissions."""

import nbformat

from jaxcourse import cli
from jaxcourse.course import assignments
from jaxcourse.grading import bench


def test_grading_bench_is_registered_and_builds_a_mixed_class(root):
    assert cli.benchmarks()["grading"] is bench.run
    students = bench.synthetic_class(root, "01_xor", 10)
    assert len(students) == 10
    kinds = {nbformat_text(v["01_xor.ipynb"]) for v in students.values()}
    assert len(kinds) == min(10, 2 + len(assignments.mistakes(root, "01_xor")))


def nbformat_text(notebook) -> str:
    return nbformat.writes(notebook)
