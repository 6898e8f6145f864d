"""Every chapter in the front ends the course supports, as a student runs it: opened in JupyterLab
in Chromium, Run All, every cell reached with no error; and `jupyter nbconvert --execute`. Not
part of `make test` (a chapter's full run takes up to 7 minutes): `make frontends`, or
`make frontends CHAPTERS="10_pallas 12_transformer"`; QUICK=1 runs the quick sizes. A table of
what ran goes to $FRONTENDS_REPORT (make frontends: docs/frontends-<backend>.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from browser import NO_CHROMIUM
from lab_page import cells_now, opened, run_all

from jaxcourse import runtime

ROOT = Path(__file__).resolve().parents[1]
REPORT = Path(os.environ.get("FRONTENDS_REPORT") or ROOT / "build" / "artifacts" / "frontends.md")
CHROMIUM = shutil.which("chromium")
NAMES = os.environ.get("CHAPTERS", "").split() or [p.stem for p in sorted((ROOT / "chapters").glob("*.ipynb"))]
QUICK = os.environ.get("QUICK", "") not in ("", "0")
SECONDS = 900
pytestmark = [pytest.mark.frontends, pytest.mark.xdist_group("jupyterlab")]


def _copy(name: str, folder: Path) -> Path:
    """The chapter as a student opens it; with QUICK, its parameters cell says so (as papermill's would)."""
    notebook = nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4)
    if QUICK:
        for cell in notebook.cells:
            if "parameters" in cell.metadata.get("tags", []):
                cell.source = "QUICK = True"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def _problems(path: Path) -> list[str]:
    """Each code cell that never ran or ended in an error, from the saved notebook."""
    found = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is None:
            found.append(f"cell {index} never ran: {cell.source[:80]!r}")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {index}: {output.get('ename')}: {output.get('evalue', '')[:300]}")
    return found


def _record(front_end: str, name: str, seconds: float, problems: list[str]) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    if not REPORT.exists():
        found = runtime.versions(("jax", "jupyterlab", "nbconvert", "nbclient", "playwright"))
        chromium = subprocess.run([CHROMIUM or "chromium", "--version"], capture_output=True, text=True).stdout.strip()
        REPORT.write_text("Every chapter as a student runs it (`make frontends`): Run All in JupyterLab, and "
                          "`jupyter nbconvert --execute`; a cell that never ran or ended in an error fails it.\n\n"
                          f"{', '.join(f'{k} {v}' for k, v in found.items())}; {chromium or 'no chromium'}; "
                          f"{os.cpu_count()} CPU cores.\n\n"
                          "| front end | chapter | mode | result | wall time (s) |\n|---|---|---|---|---|\n")
    with REPORT.open("a") as handle:
        handle.write(f"| {front_end} | chapters/{name}.ipynb | {'quick' if QUICK else 'full'} | "
                     f"{'fail: ' + problems[0] if problems else 'pass'} | {seconds:.1f} |\n")


@pytest.mark.parametrize("name", NAMES)
def test_chapter_runs_all_in_jupyterlab_in_chromium(name, tmp_path):
    if CHROMIUM is None:
        pytest.fail(NO_CHROMIUM)
    course = tmp_path / "course"
    path = _copy(name, course)
    cells = len(nbformat.read(path, as_version=4).cells)
    with opened(course, tmp_path, path.name, CHROMIUM, idle_seconds=120) as page:
        page.wait_for_function(f"document.querySelectorAll('.jp-Notebook .jp-Cell').length === {cells}",
                               timeout=60_000)
        start = time.monotonic()
        run_all(page)
        # done: no cell queued or running, and the kernel idle
        page.wait_for_function(
            "!Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell .jp-InputPrompt'),"
            " p => p.textContent).some(t => t.includes('*'))"
            " && document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle'",
            timeout=SECONDS * 1000, polling=1000)
        seconds = time.monotonic() - start
        page.keyboard.press("Control+s")
        page.wait_for_function("!document.querySelector('.jp-mod-dirty')", timeout=60_000)
        shown = cells_now(page)
    problems = _problems(path)
    _record("JupyterLab 4 in Chromium", name, seconds, problems)
    print(f"{name}: Run All in JupyterLab, {seconds:.1f} s")
    assert not problems, "\n".join(problems) + "\n\nthe page:\n" + shown[:4000]


@pytest.mark.parametrize("name", NAMES)
def test_chapter_runs_in_nbconvert(name, tmp_path):
    path = _copy(name, tmp_path)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    start = time.monotonic()
    done = subprocess.run([str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                           "--inplace", f"--ExecutePreprocessor.timeout={SECONDS}", str(path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=SECONDS + 120)
    seconds = time.monotonic() - start
    problems = ([f"nbconvert exited {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"]
                if done.returncode else _problems(path))
    _record("jupyter nbconvert --execute", name, seconds, problems)
    print(f"{name}: nbconvert --execute, {seconds:.1f} s")
    assert not problems, "\n".join(problems) + "\n" + done.stderr[-3000:]
