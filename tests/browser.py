"""Headless Chromium for tests that must see a page as a reader does (Debian's `chromium`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

NO_CHROMIUM = ("chromium is not installed: run `make browser` as root (it runs "
               "`apt-get install chromium`); the browser tests need a real browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium(profile: Path, *args: str) -> str:
    """Run headless Chromium once (its own profile, no network but loopback); return stdout."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail(NO_CHROMIUM)
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, start_new_session=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def check_screenshot(path: Path, width: int = 1200) -> None:
    import matplotlib.pyplot as plt

    assert path.is_file() and path.stat().st_size > 20_000, f"{path} is missing or nearly empty"
    pixels = plt.imread(path)
    assert pixels.shape[1] == width
    assert np.ptp(pixels[..., :3].reshape(-1, 3), axis=0).max() > 0.5, f"{path} is one colour"


def wait_for_page(url: str, server: subprocess.Popen, seconds: float, why) -> None:
    """Return once `url` answers; fail with `why()` if `server` exits or `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            assert time.monotonic() < deadline and server.poll() is None, why()
            time.sleep(0.2)


@contextlib.contextmanager
def serve(folder: Path, first_page: str):
    """Serve `folder` on loopback; yield the base URL once `first_page` answers."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                              cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_page(f"{base}/{first_page}", server, 30, lambda: "http.server did not start")
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
