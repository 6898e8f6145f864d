"""Every chapter runs top to bottom in quick mode, and really reaches its last cell."""

from pathlib import Path

import nbformat
import pytest

from jaxcourse import runtime
from jaxcourse.course import badges, notebooks

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


# Chapters that CI runs on 8 simulated CPU devices (07 also asks for them itself).
MULTI_DEVICE = {"07_vmap_pmap", "08_prng"}


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_in_quick_mode(path, tmp_path, monkeypatch):
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
