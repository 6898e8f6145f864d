"""Every chapter runs top to bottom in quick mode, and really reaches its last cell."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from jaxcourse import runtime
from jaxcourse.course import badges, notebooks

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
RELEASES = sorted((ROOT / "exercises").glob("*/*.ipynb"))


# Chapters that CI runs on 8 simulated CPU devices (07 also asks for them itself).
MULTI_DEVICE = {"07_vmap_pmap", "08_prng", "12_transformer"}


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_in_quick_mode(path, tmp_path, monkeypatch):
    """Through plain papermill (notebooks.execute): an error that escapes any cell fails it."""
    if path.stem in MULTI_DEVICE:
        monkeypatch.setenv("XLA_FLAGS", runtime.xla_flags_with_cpu_devices(8, ""))
    run = notebooks.execute(path, tmp_path, quick=True, timeout=600)
    if path.stem in MULTI_DEVICE and run.backend == "cpu":
        assert run.device_count == 8, f"{path.name} ran on {run.device_count} devices"
    print(f"{path.name}: {run.seconds:.1f} s on {run.backend} x{run.device_count}")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_a_parameters_cell_with_quick(path):
    cells = nbformat.read(path, as_version=4).cells
    tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected one cell tagged 'parameters', found {len(tagged)}"
    # papermill injects QUICK = True after this cell, so anything derived here would not change
    assert tagged[0].source.strip() == "QUICK = False", (
        f"{path.name}: the parameters cell should hold only `QUICK = False`; derive sizes in the next cell"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_opens_with_what_the_student_will_learn(path):
    first = nbformat.read(path, as_version=4).cells[0]
    # an "Open in Colab" badge (`jaxcourse badges`) may come before the title
    lines = [line for line in first.source.splitlines() if line.strip() and not badges.is_badge_line(line)]
    assert first.cell_type == "markdown" and lines and lines[0].startswith("# "), (
        f"{path.name}: the first cell should be a markdown title"
    )


def test_a_notebook_that_exits_early_is_caught(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("QUICK = False", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import sys\nsys.exit()"),
        nbformat.v4.new_code_cell("print('never reached')"),
    ]
    path = tmp_path / "exits.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(notebooks.NotebookFailure, match="SystemExit|never ran"):
        notebooks.execute(path, tmp_path / "out", quick=True, timeout=60)


def test_a_failing_cell_is_named(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0  # boom")]
    path = tmp_path / "fails.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(notebooks.NotebookFailure, match=r"fails.ipynb: cell \d+ .*1 / 0.*ZeroDivisionError"):
        notebooks.execute(path, tmp_path / "out", timeout=60)


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS + RELEASES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_cell_relies_on_the_raises_exception_tag(path):
    # papermill, Colab, VS Code and Positron stop at a tagged cell that raises; shows_error does not
    cells = nbformat.read(path, as_version=4).cells
    tagged = [i for i, c in enumerate(cells) if notebooks.RAISES_TAG in c.metadata.get("tags", [])]
    assert not tagged, f"{path.name}: cells {tagged} are tagged {notebooks.RAISES_TAG}; use shows_error"


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path


def test_a_deliberate_error_shown_with_shows_error_runs_clean(tmp_path):
    path = _notebook(tmp_path / "shown.ipynb", "from jaxcourse.errors import shows_error",
                     "with shows_error(ZeroDivisionError):\n    1 / 0", "print('reached')")
    run = notebooks.execute(path, tmp_path / "out", timeout=60)
    cells = nbformat.read(run.output, as_version=4).cells
    assert cells[1].outputs[0].name == "stderr"
    assert cells[1].outputs[0].text.splitlines()[-1] == "ZeroDivisionError: division by zero"
    assert cells[2].outputs[0].text == "reached\n"


@pytest.mark.parametrize("cell, message", [
    # the old way: JupyterLab goes on past it, papermill (and so the runner) stops
    ("1 / 0", "tagged raises-exception.*shows_error"),
    # shows_error is honest: no error, or another one, stops the notebook
    ("with shows_error(ZeroDivisionError):\n    1 / 1", "AssertionError: expected ZeroDivisionError, but the block raised nothing"),
    ("with shows_error(TypeError):\n    1 / 0", "AssertionError: expected TypeError, but the block raised ZeroDivisionError"),
])
def test_a_deliberate_error_that_escapes_fails_the_run(tmp_path, cell, message):
    path = _notebook(tmp_path / "escapes.ipynb", "from jaxcourse.errors import shows_error", cell,
                     "print('after')")
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = [notebooks.RAISES_TAG] if "shows_error" not in cell else []
    nbformat.write(nb, path)
    with pytest.raises(notebooks.NotebookFailure, match=message):
        notebooks.execute(path, tmp_path / "out", timeout=60)


@pytest.mark.slow
def test_a_chapter_runs_under_plain_nbconvert(tmp_path):
    """`jupyter nbconvert --to notebook --execute`, as a student without papermill would run it."""
    nb = nbformat.read(ROOT / "chapters" / "01_xor.ipynb", as_version=4)
    parameters = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source = "QUICK = True"  # nbconvert takes no parameters: the quick copy says so itself
    copy = tmp_path / "01_xor.ipynb"  # 01_xor reads no file relative to chapters/
    nbformat.write(nb, copy)
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(copy),
         "--output", "executed.ipynb", "--ExecutePreprocessor.timeout=600"],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    assert notebooks.problems(executed) == []
    shown = ["".join(o.text for o in c.outputs if o.get("name") == "stderr")
             for c in executed.cells if c.cell_type == "code" and "shows_error(" in c.source]
    assert len(shown) == 6 and all(text.startswith("Cell In[") for text in shown), shown
    # a function defined in an earlier cell: that cell's number, and the function's name
    assert any(re.match(r"Cell In\[\d+\], line 2, in recurrence: a = jnp.zeros\(n\)\n", t) for t in shown), shown
    assert any("TypeError: Gradient only defined for scalar-output functions." in t for t in shown)
