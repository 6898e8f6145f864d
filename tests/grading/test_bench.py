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


def test_table_reports_ratio_overhead_and_disagreement():
    plain = bench.Timed("plain", 40.0, {"a": 2.0, "b": 0.0}, 4)
    warm = bench.Timed("warm", 10.0, {"a": 2.0, "b": 1.0, "c": 0.0, "d": 0.0}, 4, cell_seconds=8.0,
                       kernel_seconds=12.0)
    lines = bench.table([bench.Measured("01_xor", plain, [warm])], workers=2, size=4)
    row = next(line for line in lines if line.strip().startswith("warm"))
    # 10 s/sub plain vs 2.5 s/sub: 4.0x; cells 2 s a notebook, overhead (12-8)/4 = 1 s; fixed 10-12/2 = 4 s
    assert row.split()[1:] == ["4", "2.50s", "4.0x", "2.00s", "1.00s", "4.0s"]
    assert lines[-1].strip() == "same score for every sampled submission: NO: b"


def test_bench_options_are_checked(capsys):
    assert cli.main(["bench", "mnist", "--size", "3"]) == 2
    assert "for `bench grading` only" in capsys.readouterr().err
    assert cli.main(["bench", "grading", "--size", "0"]) == 2
    assert "need at least 1" in capsys.readouterr().err
    assert cli.main(["bench", "grading", "--assignment", "99_nothing"]) == 2
    assert "99_nothing" in capsys.readouterr().err


def test_whole_course_line_projects_to_200_and_names_the_cells_share():
    plain = bench.Timed("plain", 20.0, {}, 2)
    rows = [bench.Timed("warm", 40.0, {}, 32, cell_seconds=48.0, kernel_seconds=64.0) for _ in range(2)]
    lines = bench.table([bench.Measured(n, plain, [r]) for n, r in zip(("a", "b"), rows)], workers=2, size=32)
    # per submission: 64/32/2 = 1 s in the workers + (40 - 32)/32 = 0.25 s fixed; two assignments, 200 each
    assert "jaxcourse at most 8.3 min, of which the notebooks' own cells 5.0 min; plain nbgrader 66.7 min" in lines[-1]
