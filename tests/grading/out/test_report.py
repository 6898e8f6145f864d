"""`jaxcourse report` after a real grading run: numbers, failures, similar answers, in a browser."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from browser import check_screenshot, chromium, serve
from conftest import built_once
from hostile_cases import ASSIGNMENT, NOTEBOOK, Context

from jaxcourse.course.assignments import CourseError
from jaxcourse.grading import bench
from jaxcourse.grading.intake import submissions
from jaxcourse.grading.out import report

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "build" / "artifacts"

# Correct train_many() written two ways; `copy` is the vmapped-step one renamed, re-commented and
# re-spaced (the names `scan`, `copy`, `loop` are the students').
TRAIN_SCAN = '''def train_many(keys, steps, lr):
    def step(params):
        grads = jax.grad(xor_loss)(params, X, Y)
        return tuple(p - lr * g for p, g in zip(params, grads))

    step_all = jax.jit(jax.vmap(step))
    params = jax.vmap(init_params)(keys)
    for _ in range(steps):
        params = step_all(params)
    return params, jax.vmap(xor_loss, in_axes=(0, None, None))(params, X, Y)
'''
TRAIN_COPY = '''def train_many(keys, steps, lr):
    # one gradient step for one network
    def one(net):
        g = jax.grad(xor_loss)(net, X, Y)
        return tuple(w - lr * d for w, d in zip(net, g))
    all_at_once = jax.jit(jax.vmap(one))

    nets = jax.vmap(init_params)(keys)
    for i in range(steps):
        nets = all_at_once(nets)  # every network at once
    return nets, jax.vmap(xor_loss, in_axes=(0, None, None))(nets, X, Y)
'''
TRAIN_LOOP = '''def train_many(keys, steps, lr):
    @jax.jit
    def train_one(key):
        def body(_, params):
            loss_grad = jax.grad(xor_loss)(params, X, Y)
            return jax.tree.map(lambda p, g: p - lr * g, params, loss_grad)

        final = jax.lax.fori_loop(0, steps, body, init_params(key))
        return final, xor_loss(final, X, Y)

    return jax.vmap(train_one)(keys)
'''

pytestmark = pytest.mark.xdist_group("report")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A small class graded and reported once per test session."""
    with built_once(tmp_path_factory, "report") as (tmp, build):
        if build:
            _grade_and_report(tmp)
    return tmp / "course"


def _grade_and_report(tmp: Path) -> None:
    ctx = Context(ROOT, tmp / "course", tmp / "class", 0)
    students = bench.synthetic_class(ROOT, ASSIGNMENT, 4)
    for name, code in (("scan", TRAIN_SCAN), ("copy", TRAIN_COPY), ("loop", TRAIN_LOOP)):
        students[name] = {NOTEBOOK: ctx.with_answer("task-06-ensemble", code)}
    folder = submissions.write_class(tmp / "class", students)
    (folder / "absent").mkdir()
    (folder / "absent" / "excuse.txt").write_text("dog ate it")
    command = [sys.executable, "-m", "jaxcourse.cli"]
    subprocess.run([*command, "grade", ASSIGNMENT, str(folder), "--course-dir", str(tmp / "course"),
                    "--no-progress"], cwd=ROOT, check=True, capture_output=True)
    done = subprocess.run([*command, "report", ASSIGNMENT, "--course-dir", str(tmp / "course")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_similar_answers_renamed_copy_found_independent_not(graded):
    notebooks = report._graded_notebooks(graded, ASSIGNMENT)
    pairs = {(p.first, p.second, p.cell) for p in
             report.similarity.similar_pairs(report.answers(notebooks), threshold=0.9)}
    assert ("copy", "scan", "task-06-ensemble") in pairs
    assert not any({"loop"} & {a, b} and cell == "task-06-ensemble" for a, b, cell in pairs)


@pytest.mark.slow
def test_report_page_in_chromium(graded, tmp_path):
    page = graded / f"report-{ASSIGNMENT}.html"
    assert page.is_file()
    with serve(graded, page.name) as base:
        dom = chromium(tmp_path / "profile", "--dump-dom", f"{base}/{page.name}")
        shot = tmp_path / "report.png"
        chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,2600", f"{base}/{page.name}")
    for text in ("grading report", "Tasks", "discrimination",
                 "most common failures", "Did not submit", "absent", "Grading time per notebook",
                 "Similar answers", "copy &amp; scan"):
        assert text in dom, f"{text!r} not on the rendered page"
    assert dom.count('src="data:image/png;base64,') >= 2, "plots are missing"
    assert "ErrorInYourCode: your forward raised NotImplementedError" in dom, "failures are counted by type"
    assert "hidden: values differ: " in dom, "a hidden failure is counted by its one line"
    assert "Known mistakes" in dom and "lost points came with a named known mistake" in dom
    check_screenshot(shot)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "grading-report.png")


def test_discrimination_is_a_correlation():
    assert report.correlation([0, 1, 2, 3], [0, 2, 4, 6]) == pytest.approx(1.0)
    assert report.correlation([1, 1, 1], [0, 1, 2]) is None


def test_failure_messages_are_normalized():
    assert report._normalize_message("AssertionError", "loss: expected 0.693, got 2.77 at 'x'") == \
        "AssertionError: loss: expected N, got N at '…'"


def test_report_needs_a_grading_run(tmp_path):
    with pytest.raises(CourseError, match="run `jaxcourse grade` first"):
        report.build(ROOT, ASSIGNMENT, tmp_path)


def test_nbformat_is_what_the_graded_notebooks_are(graded):
    path = next((graded / "autograded").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}"))
    nbformat.validate(nbformat.read(path, as_version=4))


def test_the_report_counts_named_mistakes_and_groups_the_unnamed_by_behaviour():
    from jaxcourse.course.assignments import Task
    from jaxcourse.grading.out.report import mistakes_section
    from jaxcourse.grading.out.summary import Student

    tasks = [Task("task-01-a", "nb.ipynb", {"test-01-a": 2.0}), Task("task-02-b", "nb.ipynb", {"test-02-b": 3.0})]
    records = {
        "ada": Student(cells={"test-01-a": 0.0, "test-02-b": 3.0}, lost={"task-01-a": "k1"},
                       named={"test-01-a": "one_key"}),
        "bob": Student(cells={"test-01-a": 2.0, "test-02-b": 0.0}, lost={"task-02-b": "k2"}),
        "cy": Student(cells={"test-01-a": 2.0, "test-02-b": 0.0}, lost={"task-02-b": "k2"}),
        "dee": Student(cells={"test-01-a": 2.0, "test-02-b": 0.0}, lost={"task-02-b": "k3"}),
    }
    code = {s: {"task-02-b": f"# by {s}\nreturn x + 1  # {s}'s answer"} for s in records}
    page = "".join(mistakes_section("demo", tasks, records, code))
    assert "2 of 11 lost points came with a named known mistake" in page
    assert page.index("<td>2</td>") < page.index("<td>1</td>"), "the largest group first"
    assert "return x + 1" in page and "bob" not in page and "cy" not in page, "examples are anonymised"
    assert "# task:" in page and "make mistakes" in page
