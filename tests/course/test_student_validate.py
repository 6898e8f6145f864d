"""`nbgrader validate`, as a student runs it on a released exercise in its own folder."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import first_check

from jaxcourse.course import assignments, release

ROOT = Path(__file__).resolve().parents[2]
NAME = "01_xor"
RELEASED = ROOT / "exercises" / NAME / f"{NAME}.ipynb"
SOURCE = ROOT / "solutions" / NAME / f"{NAME}.ipynb"


def _validate(notebook: Path) -> str:
    """`nbgrader validate <file>` in the notebook's folder, as a student runs it; its whole output."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), "validate", notebook.name],
        cwd=notebook.parent, capture_output=True, text=True, timeout=300,
        env=release.nbgrader_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def _visible_tests(notebook: nbformat.NotebookNode) -> int:
    return sum(1 for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade"))



@pytest.mark.slow
def test_validate_lists_every_failing_test_of_the_untouched_release(tmp_path):
    student = tmp_path / NAME / RELEASED.name
    shutil.copytree(RELEASED.parent, student.parent)
    output = _validate(student)
    assert "No nbgrader_config.py" not in output  # a warning that is not the student's problem
    tests = _visible_tests(nbformat.read(RELEASED, as_version=4))
    assert tests == len(assignments.tasks(ROOT, NAME)) == 6
    assert f"VALIDATION FAILED ON {tests} CELL(S)!" in output, output[-3000:]
    assert len(re.findall(r"^The following cell failed:", output, flags=re.M)) == tests
    assert first_check(nbformat.read(RELEASED, as_version=4)) in output
    assert "NotImplementedError" in output
    assert "Success!" not in output


@pytest.mark.slow
def test_validate_passes_a_solved_release(tmp_path):
    student = tmp_path / NAME / RELEASED.name
    student.parent.mkdir()
    nbformat.write(assignments.solved(SOURCE, RELEASED), student)
    output = _validate(student)
    assert "Success! Your notebook passes all the tests." in output, output[-3000:]
    assert "VALIDATION FAILED" not in output


def test_each_exercise_tells_students_how_to_validate():
    for path in sorted((ROOT / "exercises").glob("*/*.ipynb")):
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.cell_type == "markdown"
        assert "*Validate*" in first.source and f"`nbgrader validate {path.name}`" in first.source, path


@pytest.mark.slow
def test_validate_names_the_known_mistake_a_failing_visible_test_behaves_like(tmp_path):
    """In the student's own kernel, before submitting, in the words the grader's feedback uses."""
    from jaxcourse import checks

    table = [e for e in json.loads(checks.KNOWN_MISTAKES.read_text()) if e["assignment"] == NAME]
    entry = max(table, key=lambda e: e["count"])
    mistake = next(m for m in assignments.mistakes(ROOT, NAME) if m.path.stem == entry["file"])
    student = tmp_path / NAME / RELEASED.name
    shutil.copytree(RELEASED.parent, student.parent)
    nbformat.write(assignments.with_answer(assignments.solved(SOURCE, RELEASED), mistake.task, mistake.code), student)
    output = _validate(student)
    assert "VALIDATION FAILED ON 1 CELL(S)!" in output, output[-3000:]
    sentence = checks.mistake_sentence(mistake.why, mistake.see)
    assert " ".join(sentence.split()) in " ".join(output.split()), output[-3000:]
    assert "..." not in output[output.index("behaves like a known mistake"):]  # no line of it cut
    others = [m.why for m in assignments.mistakes(ROOT, NAME) if m.path.stem != entry["file"]]
    assert not any(why in output for why in others)
