"""Every assignment is gradeable through real nbgrader, and exercises/ is what solutions/ generates."""

from pathlib import Path

import nbformat
import pytest

from jaxcourse import grading, runtime

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = grading.assignment_names(ROOT)
# Assignments that must grade the same on 1 and on 8 simulated CPU devices.
MULTI_DEVICE = ["07_vmap_pmap", "08_prng"]
# `make audit` makes up to 8 mutants per task; CI keeps to 5 (spread over kinds) to stay quick.
CI_MUTANTS_PER_TASK = 5


def _failures(checks):
    return "\n".join(f"{c.submission}: expected {c.expected:g}, got {c.got:g} ({c.detail})"
                     for c in checks if not c.ok)


def test_every_release_has_a_source():
    assert grading.stray_releases(ROOT) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_assignment_round_trip_and_mutation_audit(name):
    """Committed release up to date; solution full marks (plain nbgrader too), release zero, each
    mistake its task; and (`jaxcourse audit`, same grading run) >= 90% of mutants killed."""
    checks = grading.validate(ROOT, name, mutants=CI_MUTANTS_PER_TASK)
    audit = next(c for c in checks if c.submission == "audit")
    print(audit.detail)
    assert not _failures(checks), _failures(checks)
    assert len(checks) >= 5 + 5, f"{name}: expected at least 5 tasks, each with a kept mistake"


@pytest.mark.slow
@pytest.mark.parametrize("name", MULTI_DEVICE)
def test_multi_device_assignment_round_trip_on_8_devices(name):
    checks = grading.validate(ROOT, name, env={"XLA_FLAGS": runtime.xla_flags_with_cpu_devices(8, "")},
                              plain=False)
    assert not _failures(checks), _failures(checks)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_task_has_points_tests_and_a_kept_mistake(name):
    tasks = grading.tasks(ROOT, name)
    assert len(tasks) >= 5, f"{name}: {len(tasks)} tasks"
    covered = {m.task for m in grading.mistakes(ROOT, name)}
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
    assert grading.solution_code(source) == "def f(x):\n    return x + 1"


def test_tasks_of_01_xor_have_the_points_the_notebook_states():
    tasks = grading.tasks(ROOT, "01_xor")
    assert [t.grade_id for t in tasks][:2] == ["task-01-forward", "task-02-loss"]
    assert sum(t.points for t in tasks) == 12


def test_solved_submission_fills_every_solution_cell():
    source = ROOT / "solutions" / "01_xor" / "01_xor.ipynb"
    released = ROOT / "exercises" / "01_xor" / "01_xor.ipynb"
    notebook = grading.solved(source, released)
    answers = [c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and not any("NotImplementedError" in a or "SOLUTION" in a for a in answers)


def test_with_answer_replaces_one_cell_and_rejects_unknown_ids():
    notebook = nbformat.read(ROOT / "exercises" / "01_xor" / "01_xor.ipynb", as_version=4)
    changed = grading.with_answer(notebook, "task-02-loss", "def cross_entropy(y_hat, y): return 0")
    sources = [c.source for c in changed.cells]
    assert "def cross_entropy(y_hat, y): return 0" in sources
    assert notebook.cells != changed.cells
    with pytest.raises(grading.GradingError, match="task-99"):
        grading.with_answer(notebook, "task-99-nothing", "")


def test_a_mistake_without_its_header_is_rejected(tmp_path):
    course = tmp_path / "course"
    (course / "solutions" / "01_xor").mkdir(parents=True)
    (course / "tests" / "mistakes" / "01_xor").mkdir(parents=True)
    (course / "tests" / "mistakes" / "01_xor" / "bad.py").write_text("def forward(p, x): return x\n")
    with pytest.raises(grading.GradingError, match="# task:"):
        grading.mistakes(course, "01_xor")


def test_unknown_assignment_names_the_known_ones():
    with pytest.raises(grading.GradingError, match="01_xor"):
        grading.tasks(ROOT, "99_nothing")


def test_course_root_is_found_from_a_subfolder():
    assert grading.course_root(ROOT / "solutions" / "01_xor") == ROOT
