"""JupyterLab starts on the course, answers /lab, and leaves nothing behind when stopped."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_jupyter_lab_serves_the_course(tmp_path):
    port = _free_port()
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
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert not list(runtime_dir.glob("jpserver-*")), "the server left its runtime files behind"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "something still listens on the port"
