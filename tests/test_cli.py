import shutil
from pathlib import Path

import nbformat
import pytest

from jaxcourse import cli

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("QUICK = False", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_every_command_is_listed():
    help_text = cli.build_parser().format_help()
    for command in ("run-notebooks", "release", "check-release", "validate", "bench"):
        assert command in help_text


def test_unknown_command_exits_with_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["frobnicate"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_run_notebooks_reports_passes_failures_and_quick_mode(tmp_path, capsys):
    good = _notebook(tmp_path / "good.ipynb", "assert QUICK is True")
    bad = _notebook(tmp_path / "bad.ipynb", "raise ValueError('broken on purpose')")
    report = tmp_path / "runtimes.md"
    code = cli.main(["run-notebooks", "--quick", "--output", str(tmp_path / "out"), "--report", str(report),
                     str(good), str(bad)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "ok   " in out and "good.ipynb" in out and "1 passed, 1 failed" in out
    assert "bad.ipynb" in err and "broken on purpose" in err
    executed = nbformat.read(tmp_path / "out" / tmp_path.name / "good.ipynb", as_version=4)
    assert [c.source for c in executed.cells][-1] == "assert QUICK is True", "the runtime probe was left in"
    rows = report.read_text().splitlines()
    assert rows[0].startswith("Mode: quick")
    import jax

    assert f"| good.ipynb | {jax.default_backend()} | {jax.device_count()} | pass |" in report.read_text()
    assert "| bad.ipynb | ? | ? | fail |" in report.read_text()


@pytest.mark.slow
def test_check_release_fails_on_a_hand_edited_exercise(tmp_path, monkeypatch, capsys):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / "01_xor", course / "solutions" / "01_xor")
    shutil.copytree(ROOT / "exercises" / "01_xor", course / "exercises" / "01_xor")
    monkeypatch.chdir(course)
    assert cli.main(["check-release"]) == 0
    edited = course / "exercises" / "01_xor" / "01_xor.ipynb"
    edited.write_text(edited.read_text().replace("YOUR CODE HERE", "your code here", 1))
    assert cli.main(["check-release"]) == 1
    assert "01_xor.ipynb: differs" in capsys.readouterr().err
