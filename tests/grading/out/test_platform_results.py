"""results.json for Gradescope and PrairieLearn, from a source notebook and a feedback page (the
artefacts run for real: tests/grading/test_autograder.py)."""

import nbformat
import pytest

from jaxcourse.grading.out import platform_results


def _cell(kind: str, source: str, **nbgrader):
    cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


SOURCE = nbformat.v4.new_notebook(cells=[
    _cell("markdown", "## Task 1: a sum (2 points)\n\nWrite it."),
    _cell("code", "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION", grade_id="task-01-sum", solution=True),
    _cell("code", "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 2\n### END HIDDEN TESTS",
          grade_id="test-01-sum", grade=True, points=2),
    _cell("markdown", "## Task 2: no hidden part (1 point)"),
    _cell("code", "assert True", grade_id="test-02-plain", grade=True, points=1),
])


def _page(outputs: dict[str, list]) -> nbformat.NotebookNode:
    page = nbformat.reads(nbformat.writes(SOURCE), as_version=4)
    for cell in page.cells:
        if cell.cell_type == "code":
            cell.outputs = outputs.get(cell.metadata.get("nbgrader", {}).get("grade_id"), [])
    return page


def test_a_hidden_failure_carries_the_points_its_line_and_the_named_mistake():
    stderr = [nbformat.v4.new_output("stream", name="stderr", text="[hidden test failed] f gives the wrong sum for a "
                                     "longer input\n(the hidden tests' code and values are not shown)\n"),
              nbformat.v4.new_output("stream", name="stderr", text="[known mistake] it adds one too many\n")]
    entries = platform_results.entries(SOURCE, _page({"test-01-sum": stderr}), {"test-01-sum": 0.0, "test-02-plain": 1.0})
    assert [(e.name, e.passed, e.points, e.hidden) for e in entries] == [
        ("Task 1: a sum: the checks in your notebook", True, None, False),
        ("Task 1: a sum: hidden checks", False, 2.0, True),
        ("Task 2: no hidden part", True, 1.0, False)]
    assert entries[1].lines == ["f gives the wrong sum for a longer input", "it adds one too many"]
    graded = platform_results.Graded("a", 1.0, 3.0, entries)
    gradescope = platform_results.gradescope(graded, "after_due_date")
    assert [t["visibility"] for t in gradescope["tests"]] == ["visible", "after_due_date", "visible"]
    assert "score" not in gradescope["tests"][0] and gradescope["score"] == 1.0
    learn = platform_results.prairielearn(graded, "hidden")
    assert learn["score"] == pytest.approx(1 / 3) and "what the hidden checks look at" in learn["tests"][1]["message"]


def test_a_visible_failure_says_the_error_and_the_hidden_part_was_not_run():
    error = nbformat.v4.new_output("error", ename="AssertionError", evalue="f(1) gave 2, expected 1", traceback=[])
    entries = platform_results.entries(SOURCE, _page({"test-01-sum": [error]}), {})
    assert entries[0].lines == ["AssertionError: f(1) gave 2, expected 1"] and not entries[0].passed
    assert entries[1].lines[0].startswith("not run")


def test_an_unreadable_notebook_is_not_gradable_on_prairielearn_and_zero_on_gradescope():
    graded = platform_results.Graded("a", 0.0, 3.0, problem="01_xor.ipynb: not a notebook", unreadable=True)
    assert platform_results.prairielearn(graded)["gradable"] is False
    assert platform_results.gradescope(graded)["score"] == 0.0
    with pytest.raises(ValueError, match="visibility"):
        platform_results.gradescope(graded, "soon")
