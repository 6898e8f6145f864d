"""JupyterLab starts on the course, answers /lab, leaves nothing behind when stopped, and runs an
exercise in a real browser (headless Debian Chromium driven by Playwright)."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser import NO_CHROMIUM, check_screenshot, free_port
from conftest import first_check
from lab_page import cell, opened, run_all, stop, wait_for_text

from jaxcourse.course import assignments

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "artifacts"
# Debian's /usr/bin/chromium (`make browser`), or CI's Chrome linked as `chromium`; Playwright
# drives it and never downloads a browser of its own
CHROMIUM = shutil.which("chromium")
# every JupyterLab of this file on one xdist worker (make test: --dist loadgroup), one at a time
pytestmark = pytest.mark.xdist_group("jupyterlab")


@pytest.mark.slow
def test_jupyter_lab_serves_the_course(tmp_path):
    port = free_port()
    runtime_dir = tmp_path / "runtime"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime_dir)}
    command = [
        str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", f"--port={port}",
        "--ip=127.0.0.1", "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={ROOT}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")  # jupyter refuses to run as root without it
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=5) as response:
                    status = response.status
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert server.poll() is None, server.stdout.read().decode()[-2000:]
        assert status == 200
        assert "JupyterLab" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/chapters", timeout=5) as response:
            assert b"01_xor.ipynb" in response.read()
    finally:
        stop(server)
    assert not list(runtime_dir.glob("jpserver-*")), "the server left its runtime files behind"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "something still listens on the port"


# --- an exercise in a real browser ----------------------------------------------------------------

@contextlib.contextmanager
def _opened(tmp_path: Path, name: str):
    """A copy of exercises/<name> (the page edits it) open in JupyterLab in headless Chromium, its
    kernel idle; yields (page, the copied notebook as released)."""
    course = tmp_path / "course"
    (course / name).mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / name / f"{name}.ipynb", course / name)
    released = nbformat.read(course / name / f"{name}.ipynb", as_version=4)
    with opened(course, tmp_path, f"{name}/{name}.ipynb", CHROMIUM) as page:
        yield page, released


@pytest.mark.slow
def test_an_exercise_runs_in_jupyterlab_in_chromium(tmp_path):
    """Open exercises/01_xor, Run All: the set-up line shows, the first visible test fails with its
    message; answer task 1 in the page, Run All again: that test passes and the next one fails."""
    if CHROMIUM is None:
        pytest.fail(NO_CHROMIUM)
    name = "01_xor"
    answer = assignments.solution_code(next(
        c.source for c in nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "task-01-forward"))
    import jax

    with _opened(tmp_path, name) as (page, released):
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in released.cells]
        setup, task1, test1, test2 = (ids.index(g) for g in ("setup", "task-01-forward", "test-01-forward",
                                                              "test-02-loss"))
        # every cell in the page (the notebook attaches them just after the kernel is up)
        page.wait_for_function(f"document.querySelectorAll('.jp-Notebook .jp-Cell').length"
                               f" === {len(released.cells)}", timeout=30_000)

        run_all(page)
        wait_for_text(page, test1, "NotImplementedError")
        setup_line = cell(page, setup).locator(".jp-OutputArea").text_content()
        assert f"JAX {jax.__version__} on cpu" in setup_line
        failed = cell(page, test1).locator(".jp-OutputArea").text_content()
        assert first_check(released) in failed
        # Run All stopped at the first failure: the next test never ran
        assert cell(page, test2).locator(".jp-OutputArea").text_content().strip() == ""

        # answer task 1 in its editor, as a student types (inserted, so no auto-indent)
        editor = cell(page, task1).locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(answer)
        assert "raise NotImplementedError" not in editor.text_content()
        page.keyboard.press("Escape")

        run_all(page)
        wait_for_text(page, test2, "NotImplementedError")
        passed = cell(page, test1)
        assert passed.locator(".jp-OutputArea").text_content().strip() == ""  # no error, no output
        assert passed.locator(".jp-InputPrompt").text_content().strip() not in ("[ ]:", "[*]:")
        assert "expect_shape(_loss" in cell(page, test2).locator(".jp-OutputArea").text_content()

        cell(page, task1).scroll_into_view_if_needed()
        shot = tmp_path / "lab-01_xor.png"
        page.screenshot(path=str(shot))
    check_screenshot(shot, width=1400)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / shot.name)


@pytest.mark.slow
def test_the_validate_button_lists_the_failing_tests(tmp_path):
    """nbgrader's Validate button in the notebook toolbar, on the untouched release: every visible
    test is reported as failing (the exercise's first cell tells students to use it)."""
    if CHROMIUM is None:
        pytest.fail(NO_CHROMIUM)
    with _opened(tmp_path, "01_xor") as (page, released):
        tests = sum(1 for c in released.cells if c.metadata.get("nbgrader", {}).get("grade"))
        page.locator(".jp-Toolbar-item", has_text="Validate").first.click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=120_000)
        page.wait_for_function("!(document.querySelector('.jp-Dialog')?.textContent ?? '')"
                               ".includes('Validating')", timeout=120_000)
        text = dialog.text_content()
        page.screenshot(path=str(tmp_path / "validate.png"))
    assert text.startswith("Validation Results"), text[:2000]
    assert text.count("The following cell failed:") == tests == 6, text[:2000]
    assert first_check(released) in text
    assert "NotImplementedError" in text and "Success" not in text
