"""JupyterLab on a folder, opened in headless Chromium (Playwright), driven as a student does."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from browser import free_port, wait_for_page
from playwright.sync_api import TimeoutError as PlaywrightTimeout


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# all cells in the page (no windowing, so every cell's output can be read), no news pop-up
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


@contextlib.contextmanager
def lab(root: Path, scratch: Path):
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
        stop(server)
        log.close()


@contextlib.contextmanager
def opened(root: Path, scratch: Path, notebook: str, chromium: str, idle_seconds: float = 60):
    """`notebook` (a path under `root`) open in JupyterLab in headless Chromium, its kernel idle;
    yields the page."""
    from playwright.sync_api import sync_playwright

    with lab(root, scratch) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{notebook}")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=idle_seconds * 1000)
            yield page
        finally:
            browser.close()


def cell(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


PROMPTS = "Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell .jp-InputPrompt'), p => p.textContent)"


def run_all(page) -> None:
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
            cell(page, 0).click()
    raise AssertionError(f"Run All started nothing; the cells:\n{cells_now(page)}")


def cells_now(page) -> str:
    """Each cell's prompt and the start of its output, for a failure message."""
    return "\n".join(page.evaluate(
        "Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'), c => "
        "(c.querySelector('.jp-InputPrompt')?.textContent ?? '') + ' ' + "
        "(c.querySelector('.jp-OutputArea')?.textContent ?? '').slice(0, 200))"))


def wait_for_text(page, index: int, text: str, timeout_ms: int = 180_000) -> None:
    try:
        page.wait_for_function(
            "([i, text]) => (document.querySelectorAll('.jp-Notebook .jp-Cell')[i]"
            "?.querySelector('.jp-OutputArea')?.textContent ?? '').includes(text)",
            arg=[index, text], timeout=timeout_ms)
    except PlaywrightTimeout:
        raise AssertionError(f"cell {index} never showed {text!r}; the cells:\n{cells_now(page)}") from None


