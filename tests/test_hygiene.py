"""Committed notebooks stay reviewable: no outputs, no execution counts, lint-clean."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from jaxcourse import cli
from jaxcourse.course import normalize

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.glob("chapters/*.ipynb"), *ROOT.glob("solutions/*/*.ipynb")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_without_outputs(path):
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: cell {i} has outputs"
            assert cell.execution_count is None, f"{path.name}: cell {i} has an execution count"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_valid_and_runs_on_the_python3_kernel(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests", "chapters", "solutions", "ci"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_notebooks_are_normalized():
    offenders = [str(p.relative_to(ROOT)) for p in normalize.unnormalized(ROOT)]
    assert not offenders, f"run `jaxcourse normalize`: {offenders}"


def test_normalize_clears_outputs_counts_and_metadata(tmp_path, monkeypatch, capsys):
    (tmp_path / "nbgrader_config.py").write_text("")
    (tmp_path / "solutions").mkdir()
    (tmp_path / "chapters").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "x", "language": "python"},
                   "language_info": {"name": "python", "version": "3.12.1"}, "widgets": {"a": 1}}
    cell = nbformat.v4.new_code_cell("1 + 1", metadata={"tags": ["keep"], "execution": {"iopub.status.busy": "2026-01-01T00:00:00Z"}})
    cell.execution_count = 3
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)]
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), cell]
    path = tmp_path / "chapters" / "x.ipynb"
    nbformat.write(nb, path)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["normalize", "--check"]) == 1
    assert "chapters/x.ipynb" in capsys.readouterr().err
    assert cli.main(["normalize"]) == 0
    assert cli.main(["normalize", "--check"]) == 0
    cleaned = nbformat.read(path, as_version=4)
    assert cleaned.metadata == {"kernelspec": normalize.KERNELSPEC, "language_info": {"name": "python"}}
    code = cleaned.cells[1]
    assert code.outputs == [] and code.execution_count is None
    assert dict(code.metadata) == {"tags": ["keep"]}
