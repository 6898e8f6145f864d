"""Every assignment is gradeable through real nbgrader, and exercises/ is what solutions/ generates."""

from pathlib import Path

import nbformat
import pytest

from jaxcourse.course import assignments, release

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = assignments.assignment_names(ROOT)


def test_every_release_has_a_source():
    assert release.stray_releases(ROOT) == []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_task_has_points_tests_and_a_kept_mistake(name):
    tasks = assignments.tasks(ROOT, name)
    assert len(tasks) >= 5, f"{name}: {len(tasks)} tasks"
    covered = {m.task for m in assignments.mistakes(ROOT, name)}
    for task in tasks:
        assert task.points > 0, f"{task.grade_id} has no graded test cell with points"
        assert task.grade_id in covered, f"{task.grade_id} has no mistake in tests/mistakes/{name}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_no_solutions_or_hidden_tests(name):
    for path in (ROOT / "exercises" / name).glob("*.ipynb"):
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
            assert marker not in text, f"{path} leaks {marker}"


def test_solution_code_drops_only_the_markers():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION"
    assert assignments.solution_code(source) == "def f(x):\n    return x + 1"


def test_tasks_of_01_xor_have_the_points_the_notebook_states():
    tasks = assignments.tasks(ROOT, "01_xor")
    assert [t.grade_id for t in tasks][:2] == ["task-01-forward", "task-02-loss"]
    assert sum(t.points for t in tasks) == 12


def test_solved_submission_fills_every_solution_cell():
    source = ROOT / "solutions" / "01_xor" / "01_xor.ipynb"
    released = ROOT / "exercises" / "01_xor" / "01_xor.ipynb"
    notebook = assignments.solved(source, released)
    answers = [c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and not any("NotImplementedError" in a or "SOLUTION" in a for a in answers)


def test_with_answer_replaces_one_cell_and_rejects_unknown_ids():
    notebook = nbformat.read(ROOT / "exercises" / "01_xor" / "01_xor.ipynb", as_version=4)
    changed = assignments.with_answer(notebook, "task-02-loss", "def cross_entropy(y_hat, y): return 0")
    sources = [c.source for c in changed.cells]
    assert "def cross_entropy(y_hat, y): return 0" in sources
    assert notebook.cells != changed.cells
    with pytest.raises(assignments.CourseError, match="task-99"):
        assignments.with_answer(notebook, "task-99-nothing", "")


def test_a_mistake_without_its_header_is_rejected(tmp_path):
    course = tmp_path / "course"
    (course / "solutions" / "01_xor").mkdir(parents=True)
    (course / "tests" / "mistakes" / "01_xor").mkdir(parents=True)
    (course / "tests" / "mistakes" / "01_xor" / "bad.py").write_text("def forward(p, x): return x\n")
    with pytest.raises(assignments.CourseError, match="# task:"):
        assignments.mistakes(course, "01_xor")


def test_unknown_assignment_names_the_known_ones():
    with pytest.raises(assignments.CourseError, match="01_xor"):
        assignments.tasks(ROOT, "99_nothing")


def test_course_root_is_found_from_a_subfolder():
    assert assignments.course_root(ROOT / "solutions" / "01_xor") == ROOT


def test_gradebooks_made_in_process_get_the_alembic_version_nbgrader_asks_alembic_for():
    import subprocess

    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:  # what nbgrader.api does itself
        heads = subprocess.run(["alembic", "-c", ini, "heads"], capture_output=True, text=True, check=True)
    assert release.alembic_head() == heads.stdout.split()[0]
