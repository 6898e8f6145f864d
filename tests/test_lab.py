"""JupyterLab starts on the course, answers /lab, leaves nothing behind when stopped, and runs an
exercise in a real browser (headless Debian Chromium driven by Playwright)."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser import NO_CHROMIUM, check_screenshot, free_port, wait_for_page
from conftest import first_check
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from jaxcourse.course import assignments

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "artifacts"
# Debian's /usr/bin/chromium (`make browser`), or CI's Chrome linked as `chromium`; Playwright
# drives it and never downloads a browser of its own
CHROMIUM = shutil.which("chromium")
# every JupyterLab of this file on one xdist worker (make test: --dist loadgroup), one at a time
pytestmark = pytest.mark.xdist_group("jupyterlab")


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


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
        _stop(server)
    assert not list(runtime_dir.glob("jpserver-*")), "the server left its runtime files behind"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "something still listens on the port"


# --- an exercise in a real browser ----------------------------------------------------------------

# all cells in the page (no windowing, so every cell's output can be read), no news pop-up
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


@contextlib.contextmanager
def _lab(root: Path, scratch: Path):
    """JupyterLab on `root` with its own settings and runtime folders; yields its base URL."""
    for name, values in LAB_SETTINGS.items():
        path = scratch / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")}
    command = [
        str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", f"--port={port}",
        "--ip=127.0.0.1", "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={scratch / 'settings'}", f"--LabApp.workspaces_dir={scratch / 'ws'}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(scratch / "lab.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_page(f"{base}/lab", server, 90, lambda: (scratch / "lab.log").read_text()[-2000:])
        yield base
    finally:
        _stop(server)
        log.close()


@contextlib.contextmanager
def _opened(tmp_path: Path, name: str):
    """A copy of exercises/<name> (the page edits it) open in JupyterLab in headless Chromium, its
    kernel idle; yields (page, the copied notebook as released)."""
    from playwright.sync_api import sync_playwright

    course = tmp_path / "course"
    (course / name).mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / name / f"{name}.ipynb", course / name)
    released = nbformat.read(course / name / f"{name}.ipynb", as_version=4)
    with _lab(course, tmp_path) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{name}/{name}.ipynb")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
            yield page, released
        finally:
            browser.close()


def _cell(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


PROMPTS = "Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell .jp-InputPrompt'), p => p.textContent)"


def _run_all(page) -> None:
    """Run → Run All Cells, through the menu as a student does. Under load the click can land
    before the notebook is the current widget (the item is then disabled, or does nothing), so
    wait for the item to be enabled and for some cell to be queued or run ([*] or [n]); if none
    is, focus the notebook and click again."""
    for _attempt in range(3):
        before = json.dumps(page.evaluate(PROMPTS))
        started = (f"JSON.stringify({PROMPTS}) !== {json.dumps(before)}"
                   f" && {PROMPTS}.some(p => /\\[(\\*|\\d+)\\]/.test(p))")
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        item = page.locator("li.lm-Menu-item[data-command='runmenu:run-all']")
        page.wait_for_function("!document.querySelector(\"li.lm-Menu-item[data-command='runmenu:run-all']\")"
                               "?.classList.contains('lm-mod-disabled')", timeout=60_000)
        item.click()
        try:
            page.wait_for_function(started, timeout=30_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            _cell(page, 0).click()
    raise AssertionError(f"Run All started nothing; the cells:\n{_cells_now(page)}")


def _cells_now(page) -> str:
    """Each cell's prompt and the start of its output, for a failure message."""
    return "\n".join(page.evaluate(
        "Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'), c => "
        "(c.querySelector('.jp-InputPrompt')?.textContent ?? '') + ' ' + "
        "(c.querySelector('.jp-OutputArea')?.textContent ?? '').slice(0, 200))"))


def _wait_for_text(page, index: int, text: str, timeout_ms: int = 180_000) -> None:
    try:
        page.wait_for_function(
            "([i, text]) => (document.querySelectorAll('.jp-Notebook .jp-Cell')[i]"
            "?.querySelector('.jp-OutputArea')?.textContent ?? '').includes(text)",
            arg=[index, text], timeout=timeout_ms)
    except PlaywrightTimeout:
        raise AssertionError(f"cell {index} never showed {text!r}; the cells:\n{_cells_now(page)}") from None


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

        _run_all(page)
        _wait_for_text(page, test1, "NotImplementedError")
        setup_line = _cell(page, setup).locator(".jp-OutputArea").text_content()
        assert f"JAX {jax.__version__} on cpu" in setup_line
        failed = _cell(page, test1).locator(".jp-OutputArea").text_content()
        assert first_check(released) in failed
        # Run All stopped at the first failure: the next test never ran
        assert _cell(page, test2).locator(".jp-OutputArea").text_content().strip() == ""

        # answer task 1 in its editor, as a student types (inserted, so no auto-indent)
        editor = _cell(page, task1).locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(answer)
        assert "raise NotImplementedError" not in editor.text_content()
        page.keyboard.press("Escape")

        _run_all(page)
        _wait_for_text(page, test2, "NotImplementedError")
        passed = _cell(page, test1)
        assert passed.locator(".jp-OutputArea").text_content().strip() == ""  # no error, no output
        assert passed.locator(".jp-InputPrompt").text_content().strip() not in ("[ ]:", "[*]:")
        assert "expect_shape(_loss" in _cell(page, test2).locator(".jp-OutputArea").text_content()

        _cell(page, task1).scroll_into_view_if_needed()
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
