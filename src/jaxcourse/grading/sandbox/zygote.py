"""Warm kernels: a process that has imported ipykernel and JAX once forks each student's kernel.

Starting Python and importing ipykernel and JAX costs a second a kernel, before any student
code runs. The zygote pays that once per grading process: it is started by the grader with the
kernels' environment, imports those modules (and never initialises a JAX backend, runs student
code or learns a secret), and then only forks. Each fork becomes one student's kernel with
everything a cold start would have: its own session, log, cgroups, and, when isolating, fresh
mount, network, PID, IPC and UTS namespaces and the chroot of `jaxcourse.grading.sandbox.jail`, as
`nobody`. Nothing flows back from a fork to the zygote, so no two students share state: each
starts from the same pristine copy of memory in which no student code ever ran.

The grader speaks to the zygote in JSON lines over its stdin and stdout: a request to start a
kernel is answered with the new process's pid; when a kernel's process ends the zygote reports
its exit code. The grader watches each kernel through a pidfd, so a recycled pid is never
mistaken for it.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from jaxcourse.grading.sandbox.guard import WATCHED

# What every kernel imports before a student's first cell (about 1 s of CPU a kernel), and what
# the grader's guard snapshots; an assignment's own imports come on top (`imports_of`).
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "IPython.core.completer", "jaxcourse.checks",
           "jaxcourse.grading.sandbox.jail", "jaxcourse.grading.sandbox.guard", "jaxcourse.grading.verdicts.remote", *WATCHED)
# matplotlib settles its config and cache folders (under the kernel's HOME) when imported.
NEVER_PRELOAD = ("matplotlib",)
IMPORT = re.compile(r"^[ \t]*(?:import|from)[ \t]+([A-Za-z_][\w.]*)", re.MULTILINE)


def imports_of(notebooks) -> tuple[str, ...]:
    """The modules the code cells of these (trusted, source) notebooks import, for the zygote."""
    found = []
    for notebook in notebooks:
        for cell in notebook.cells:
            if cell.cell_type == "code":
                found += IMPORT.findall(cell.source)
    return tuple(sorted({m for m in found if not m.startswith(NEVER_PRELOAD) and m not in PRELOAD}))


# --- inside the zygote ---------------------------------------------------------------------------


def _send(message: dict) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send({"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def _become_kernel(request: dict) -> None:
    """In the fork: become one student's kernel (never returns)."""
    from jaxcourse.grading.sandbox import jail

    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    signal.set_wakeup_fd(-1)
    os.closerange(3, 1 << 16)  # the zygote's pipes to the grader above all
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    jail.join_cgroups(request)
    spec = request.get("jail")
    if spec:
        jail.unshare()
        kernel = os.fork()  # the first process of the new PID namespace
        if kernel:
            _, status = os.waitpid(kernel, 0)
            code = os.waitstatus_to_exitcode(status)
            os._exit(code if code >= 0 else 128 - code)
        jail.enter(spec)
        jail.die_with_parent()
    else:
        if request.get("user"):
            jail.become(request["user"])
        os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = list(request["argv"])
    sys.path[:] = [p for p in sys.path if p not in ("", ".")]
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    app.start()


def _fork(request: dict) -> int:
    zygote = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    try:
        from jaxcourse.grading.sandbox import jail

        jail.die_with_parent()  # a kernel (and its namespace) never outlives the zygote
        if os.getppid() != zygote:
            raise SystemExit(1)
        _become_kernel(request)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0
    except BaseException:
        traceback.print_exc()
        code = 71
    finally:
        sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    """The zygote's main loop (`python -c 'from jaxcourse.grading.sandbox.zygote import serve; serve()'`)."""
    # It ends when its stdin does (the grader closed it or exited). Not PR_SET_PDEATHSIG: that
    # fires when the grader's *thread* that started it ends, and Dask's threads come and go.
    if sys.path and sys.path[0] == "":
        del sys.path[0]
    failed = []
    for name in (*PRELOAD, *sys.argv[1:]):
        try:
            importlib.import_module(name)
        except Exception as err:  # a kernel will import it itself, and fail there if it must
            failed.append(f"{name}: {err}")
    gc.freeze()  # what is imported stays out of every fork's collections (and unshared pages)
    _send({"ready": True, "failed": failed})
    # An ended kernel is reported at once: SIGCHLD writes a byte that wakes the select.
    woken, wake = os.pipe()
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    pending = b""
    while True:
        readable, _, _ = select.select([0, woken], [], [], 1.0)
        if woken in readable:
            os.read(woken, 4096)
        _reap()
        if 0 not in readable:
            continue
        data = os.read(0, 1 << 16)
        if not data:
            return
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            _send({"started": request["id"], "pid": _fork(request)})


# --- in the grader -----------------------------------------------------------------------------


class ZygoteError(RuntimeError):
    pass


class Forked:
    """A kernel process the zygote forked, watched through a pidfd: `poll`, `wait` and `kill`
    like `subprocess.Popen`; `returncode` is the exit code the zygote reported."""

    def __init__(self, zygote: Zygote, pid: int):
        self.zygote = zygote
        self.pid = pid
        self.returncode: int | None = None
        try:
            self.fd = os.pidfd_open(pid)
        except ProcessLookupError:  # already ended and reaped
            self.fd = -1

    def _ended(self, timeout: float | None) -> bool:
        return self.fd < 0 or bool(select.select([self.fd], [], [], timeout)[0])

    def poll(self) -> int | None:
        if self.returncode is None and self._ended(0):
            self.returncode = self.zygote.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not self._ended(timeout):
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            self.returncode = self.zygote.exit_code(self.pid)
        return self.returncode

    def kill(self) -> None:
        if self.fd >= 0:
            try:
                signal.pidfd_send_signal(self.fd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self):
        self.close()


class Zygote:
    """The grader's end of one zygote, started with `env` (the kernels' environment: what JAX
    reads when it is imported must already be the kernels')."""

    def __init__(self, env: dict[str, str], preload: tuple[str, ...], log: Path):
        self.log = log
        with open(log, "wb") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from jaxcourse.grading.sandbox.zygote import serve; serve()", *preload],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, cwd="/", env=env,
                start_new_session=True)
        self.lock = threading.Lock()
        self.changed = threading.Condition()
        self.started: dict[int, int] = {}
        self.exited: dict[int, int] = {}
        self.next_id = 0
        self.ready: dict | None = None
        threading.Thread(target=self._listen, name="zygote-listener", daemon=True).start()
        with self.changed:
            if not self.changed.wait_for(lambda: self.ready is not None or not self.alive(), timeout=120):
                self.close()
                raise ZygoteError("the zygote did not get ready in 120 s")
        if self.ready is None:
            raise ZygoteError(f"the zygote exited while importing: {self.log_tail()}")

    def _listen(self) -> None:
        for line in self.process.stdout:
            message = json.loads(line)
            with self.changed:
                if "ready" in message:
                    self.ready = message
                elif "started" in message:
                    self.started[message["started"]] = message["pid"]
                elif "exited" in message:
                    self.exited[message["exited"]] = message["code"]
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def spawn(self, request: dict, timeout: float = 30.0) -> Forked:
        with self.lock:
            self.next_id += 1
            ask = self.next_id
            try:
                self.process.stdin.write((json.dumps({**request, "id": ask}) + "\n").encode())
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError) as err:
                raise ZygoteError(f"the zygote is gone: {self.log_tail()}") from err
            with self.changed:
                if not self.changed.wait_for(lambda: ask in self.started or not self.alive(), timeout=timeout):
                    raise ZygoteError("the zygote did not fork in time")
                if ask not in self.started:
                    raise ZygoteError(f"the zygote is gone: {self.log_tail()}")
                pid = self.started.pop(ask)
        return Forked(self, pid)

    def exit_code(self, pid: int, wait: float = 2.0) -> int:
        """The code the zygote reported for `pid` (it reaps at once); -9 when it never did."""
        with self.changed:
            self.changed.wait_for(lambda: pid in self.exited or not self.alive(), timeout=wait)
            return self.exited.pop(pid, -signal.SIGKILL)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_zygotes: dict[str, Zygote] = {}
_registry = threading.Lock()
_logs: list[Path] = []


def for_env(env: dict[str, str], preload: tuple[str, ...] = ()) -> Zygote:
    """The running zygote for kernels with this environment that has imported `preload` too,
    started on first use and again if it died; all of them end with this process."""
    key = json.dumps([sorted(env.items()), preload])
    with _registry:
        zygote = _zygotes.get(key)
        if zygote is None or not zygote.alive():
            if not _logs:
                _logs.append(Path(tempfile.mkdtemp(prefix=f"jc-zygote-{os.getpid()}-")))
                atexit.register(close_all)
            zygote = _zygotes[key] = Zygote(env, preload, _logs[0] / f"zygote-{time.monotonic_ns()}.log")
        return zygote


def close_all() -> None:
    with _registry:
        for zygote in _zygotes.values():
            zygote.close()
        _zygotes.clear()
        for folder in _logs:
            shutil.rmtree(folder, ignore_errors=True)
        _logs.clear()
