"""Run one student's notebook, step by step, in a kernel that cannot see or touch anything else.

Where the machine allows (root, Linux namespaces), each kernel runs in its own mount, network
and PID namespaces (`jaxcourse.jail`) as the unprivileged user `nobody`, chrooted into a new root
that holds only the system's libraries, the Python environment and the course helpers (all
read-only) and its private working folder: the course, the gradebook, other students and home
folders are not there at all. There is no network, and a memory cgroup caps its memory.
Elsewhere it is a plain process with the same time limits, and `Run.isolation` says so.

The grader (a trusted process) sends cells one at a time over Unix sockets, so the hidden tests
exist only in its memory until the moment they run; it decides pass or fail from the kernel's
reply, after `jaxcourse.guard` has put back anything student code patched.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jaxcourse import guard

NOBODY = 65534
INSIDE = "/tmp/work"
CGROUP_V1 = Path("/sys/fs/cgroup/memory")
CGROUP_V2 = Path("/sys/fs/cgroup")
MAX_RESTARTS = 3


@dataclass(frozen=True)
class Limits:
    cell_seconds: float = 300.0
    notebook_seconds: float = 1200.0
    memory_bytes: int = 4 * 2**30
    output_chars: int = 20_000
    start_seconds: float = 60.0
    interrupt_grace: float = 5.0


@dataclass(frozen=True)
class Step:
    """One cell to run: `kind` is locked (course code), answer, extra (a cell the student added),
    or test (`source` is the visible part, `hidden` the hidden tests, run right after)."""

    kind: str
    cell: str
    source: str
    hidden: str = ""


@dataclass
class Outcome:
    status: str  # ok, error, timeout (interrupted), killed (ignored the interrupt), died, skipped
    outputs: list = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


@dataclass
class StepResult:
    cell: str
    kind: str
    visible: Outcome
    hidden: Outcome | None = None
    changes: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.visible.status == "ok" and (self.hidden is None or self.hidden.status == "ok")


@dataclass
class Run:
    results: list
    notes: list
    seconds: float
    isolation: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Run:
        results = []
        for r in data["results"]:
            hidden = Outcome(**r["hidden"]) if r["hidden"] else None
            results.append(StepResult(r["cell"], r["kind"], Outcome(**r["visible"]), hidden, r["changes"]))
        return cls(results, data["notes"], data["seconds"], data["isolation"])


# --- where and how a kernel runs ---------------------------------------------------------------


def namespaces_available() -> bool:
    """Root, Linux, util-linux `unshare`, and the kernel lets us make the namespaces."""
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "true"],
                           capture_output=True)
    return probe.returncode == 0


def _package_dirs() -> list[Path]:
    """What a kernel must see: this Python environment, the course helpers and their data."""
    import jaxcourse

    package = Path(jaxcourse.__file__).resolve().parent
    found = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), package.parent]
    data = package.parents[1] / "data"
    if data.is_dir():
        found.append(data)
    return list(dict.fromkeys(found))


class MemoryCgroup:
    """A cgroup (v1 or v2) capping one kernel's memory; absent when cgroups are not writable."""

    def __init__(self, limit: int):
        self.path = None
        self.procs = None
        name = f"jaxcourse-{uuid.uuid4().hex[:12]}"
        try:
            if (CGROUP_V2 / "cgroup.controllers").is_file():
                path = CGROUP_V2 / name
                path.mkdir()
                (path / "memory.max").write_text(str(limit))
                (path / "memory.swap.max").write_text("0") if (path / "memory.swap.max").exists() else None
            elif CGROUP_V1.is_dir():
                path = CGROUP_V1 / name
                path.mkdir()
                (path / "memory.limit_in_bytes").write_text(str(limit))
            else:
                return
        except OSError:
            return
        self.path = path
        self.procs = path / "cgroup.procs"

    def hit_limit(self) -> bool:
        if self.path is None:
            return False
        for name, test in (("memory.failcnt", lambda t: int(t) > 0),
                           ("memory.events", lambda t: "oom_kill 0" not in t and "oom_kill" in t)):
            try:
                if test((self.path / name).read_text()):
                    return True
            except (OSError, ValueError):
                continue
        return False

    def remove(self) -> None:
        if self.path is None:
            return
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


@dataclass
class Sandbox:
    """How kernels are started for one grading run."""

    env: dict = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    cache: str | None = None
    cache_writable: bool = False
    isolate: bool | None = None

    def __post_init__(self):
        if self.isolate is None:
            self.isolate = namespaces_available()

    @property
    def isolation(self) -> str:
        return "namespaces" if self.isolate else "process"


def _kernel_env(sandbox: Sandbox, home: str) -> dict[str, str]:
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "MPLCONFIGDIR": f"{home}/.config/matplotlib",
        "IPYTHONDIR": f"{home}/.ipython",
        "JUPYTER_RUNTIME_DIR": f"{home}/.runtime",
        "MPLBACKEND": "agg",
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith(("XLA_", "JAX_")) or k == "JAXCOURSE_MNIST_SOURCE"})
    if sandbox.cache:
        env.update({
            "JAX_COMPILATION_CACHE_DIR": sandbox.cache,
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        })
    env.update(sandbox.env)
    return env


def _copy_matplotlib_cache(workdir: Path) -> None:
    # A fresh HOME would rebuild matplotlib's font list (seconds) in every kernel.
    try:
        import matplotlib

        source = Path(matplotlib.get_cachedir())
    except Exception:
        return
    target = workdir / ".config" / "matplotlib"
    target.mkdir(parents=True, exist_ok=True)
    for font_list in source.glob("fontlist-*.json"):
        shutil.copy2(font_list, target / font_list.name)


class Kernel:
    """One ipykernel process, sandboxed, spoken to over Unix sockets."""

    def __init__(self, sandbox: Sandbox, workdir: Path):
        self.sandbox = sandbox
        self.workdir = workdir
        self.secret = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self.client = None
        self.cgroup: MemoryCgroup | None = None

    def _connection(self, where: str) -> dict:
        return {"transport": "ipc", "ip": f"{where}/kernel", "key": self.key, "signature_scheme": "hmac-sha256",
                "shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5,
                "kernel_name": "python3"}

    def start(self) -> None:
        from jupyter_client import BlockingKernelClient

        self.key = secrets.token_hex(16)
        inside = INSIDE if self.sandbox.isolate else str(self.workdir)
        for leftover in self.workdir.glob("kernel-*"):
            leftover.unlink()
        (self.workdir / "kernel.json").write_text(json.dumps(self._connection(inside)))
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", f"{inside}/kernel.json",
                "--HistoryManager.enabled=False", "--IPKernelApp.quiet=True"]
        env = _kernel_env(self.sandbox, inside)
        self.cgroup = MemoryCgroup(self.sandbox.limits.memory_bytes) if os.geteuid() == 0 else None
        if self.sandbox.isolate:
            os.chown(self.workdir, NOBODY, NOBODY)
            for path in self.workdir.rglob("*"):
                os.chown(path, NOBODY, NOBODY)
            spec = self._jail_spec(argv, env)
            spec_path = self.workdir.parent / f"jail-{uuid.uuid4().hex[:8]}.json"
            spec_path.write_text(json.dumps(spec))
            command = ["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child",
                       sys.executable, "-m", "jaxcourse.jail", str(spec_path)]
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log(),
                                            stderr=subprocess.STDOUT, start_new_session=True, env=env)
        else:
            procs = self.cgroup.procs if self.cgroup else None

            def join_cgroup():
                if procs is not None:
                    procs.write_text(str(os.getpid()))

            self.process = subprocess.Popen(argv, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
                                            stdout=self._log(), stderr=subprocess.STDOUT,
                                            start_new_session=True, preexec_fn=join_cgroup)
        client = BlockingKernelClient()
        client.load_connection_info(self._connection(str(self.workdir)))
        client.start_channels()
        self.client = client
        deadline = time.monotonic() + self.sandbox.limits.start_seconds
        while True:
            if not self.alive():
                raise KernelDied(f"the kernel exited while starting (code {self.process.returncode}): "
                                 f"{self.log_tail()}")
            try:
                client.wait_for_ready(timeout=1)
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise KernelDied("the kernel did not start in time") from None
        bootstrap = (f"import jaxcourse.guard as _g\n_g.install({self.secret!r})\ndel _g\n")
        outcome, _ = self.execute(bootstrap, timeout=self.sandbox.limits.start_seconds, store_history=False)
        if outcome.status != "ok":
            raise KernelDied(f"the grader's set-up failed in the kernel: {outcome.error}")

    def _log(self):
        # The kernel's own stderr stays with the grader (student code's goes to its outputs).
        self.log_path = self.workdir.parent / f"kernel-{uuid.uuid4().hex[:8]}.log"
        return open(self.log_path, "wb")

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _jail_spec(self, argv: list[str], env: dict) -> dict:
        show = [{"source": str(self.workdir), "target": INSIDE, "writable": True}]
        show += [{"source": str(p), "target": str(p)} for p in _package_dirs()]
        if self.sandbox.cache:
            Path(self.sandbox.cache).mkdir(parents=True, exist_ok=True)
            if self.sandbox.cache_writable:
                os.chown(self.sandbox.cache, NOBODY, NOBODY)
            show.append({"source": self.sandbox.cache, "target": self.sandbox.cache,
                         "writable": self.sandbox.cache_writable})
        root = self.workdir.parent / "root"
        root.mkdir(exist_ok=True)
        return {
            "root": str(root), "show": show, "cwd": INSIDE, "argv": argv, "env": env,
            "uid": NOBODY, "gid": NOBODY, "scratch_bytes": 2**30,
            "cgroup_procs": str(self.cgroup.procs) if self.cgroup and self.cgroup.procs else None,
            "rlimits": {"RLIMIT_FSIZE": 2**30, "RLIMIT_NOFILE": 4096},
        }

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def interrupt(self) -> None:
        message = self.client.session.msg("interrupt_request", content={})
        self.client.control_channel.send(message)

    def kill(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
            self.client = None
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        if self.cgroup is not None:
            self.cgroup.remove()

    def execute(self, code: str, *, timeout: float, store_history: bool = True,
                receipt_expr: str | None = None) -> tuple[Outcome, str | None]:
        """Run `code`; return its outcome and, if asked, the value of `receipt_expr` afterwards."""
        limits = self.sandbox.limits
        expressions = {"receipt": receipt_expr} if receipt_expr else {}
        start = time.monotonic()
        msg_id = self.client.execute(code, store_history=store_history, allow_stdin=False,
                                     stop_on_error=False, user_expressions=expressions)
        outputs: list = []
        kept = 0
        dropped = 0
        error = ""
        idle = False
        interrupted_at = None
        status = "ok"
        while not idle:
            if not self.alive():
                return Outcome("died", outputs, "the kernel died", time.monotonic() - start), None
            elapsed = time.monotonic() - start
            if interrupted_at is None and elapsed > timeout:
                self.interrupt()
                interrupted_at = time.monotonic()
            if interrupted_at is not None and time.monotonic() - interrupted_at > limits.interrupt_grace:
                return (Outcome("killed", outputs, f"still running after {timeout:g} s and ignored the "
                                "interrupt: the kernel was stopped", time.monotonic() - start), None)
            try:
                message = self.client.get_iopub_msg(timeout=0.2)
            except Exception:  # queue.Empty
                continue
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "status":
                idle = message["content"]["execution_state"] == "idle"
                continue
            if kind not in ("stream", "display_data", "execute_result", "error"):
                continue
            if kind == "error":
                content = message["content"]
                error = f"{content['ename']}: {content['evalue']}"[:2000]
            import nbformat

            output = nbformat.v4.output_from_msg(message)
            size = len(json.dumps(output))
            if kept + size > limits.output_chars:
                dropped += size
                continue
            kept += size
            outputs.append(output)
        if dropped:
            outputs.append({"output_type": "stream", "name": "stderr",
                            "text": f"[grader: {dropped:,} more characters of output not kept]\n"})
        reply = self._reply(msg_id)
        seconds = time.monotonic() - start
        if interrupted_at is not None:
            return Outcome("timeout", outputs, f"still running after {timeout:g} s: interrupted", seconds), None
        content = reply.get("content", {}) if reply else {}
        if content.get("status") != "ok":
            status = "error"
            error = error or f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"
        value = None
        found = content.get("user_expressions", {}).get("receipt", {})
        if found.get("status") == "ok":
            value = found.get("data", {}).get("text/plain", "").strip("'\"")
        return Outcome(status, outputs, error, seconds), value

    def _reply(self, msg_id: str) -> dict | None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                reply = self.client.get_shell_msg(timeout=0.5)
            except Exception:
                if not self.alive():
                    return None
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return reply
        return None

    def guard(self, timeout: float) -> tuple[bool, list[str]]:
        """Put back what student code changed; False when the guard could not prove it ran."""
        nonce = secrets.token_hex(8)
        outcome, value = self.execute(
            f"{guard.GUARD_NAME}({nonce!r})", timeout=timeout, store_history=False,
            receipt_expr=f"{guard.RECEIPT_NAME} + '|' + ','.join({guard.CHANGES_NAME})")
        proof, _, changes = (value or "").partition("|")
        if outcome.status != "ok" or proof != guard.receipt(self.secret, nonce):
            return False, []
        return True, [c for c in changes.split(",") if c]


class KernelDied(RuntimeError):
    pass


# --- one student's run -------------------------------------------------------------------------


def _skipped(step: Step, why: str) -> StepResult:
    hidden = Outcome("skipped", error=why) if step.hidden else None
    return StepResult(step.cell, step.kind, Outcome("skipped", error=why), hidden)


def _replay(kernel: Kernel, steps: list[Step], done: list[int], limits: Limits) -> bool:
    for index in done:
        if steps[index].kind == "test":
            continue
        outcome, _ = kernel.execute(steps[index].source, timeout=limits.cell_seconds)
        if outcome.status in ("died", "timeout", "killed"):
            return False
    return True


def run_steps(steps: list[Step], sandbox: Sandbox, workdir: Path) -> Run:
    """Run `steps` in order in a fresh kernel. A kernel that dies or hangs is restarted and the
    steps before the culprit replayed, so one broken cell costs only its own task."""
    limits = sandbox.limits
    start = time.monotonic()
    deadline = start + limits.notebook_seconds
    results: list[StepResult] = []
    notes: list[str] = []
    done: list[int] = []
    kernel: Kernel | None = None
    restarts = 0
    gave_up = ""

    def stop(kernel: Kernel) -> None:
        nonlocal restarts
        kernel.kill()
        restarts += 1

    try:
        for index, step in enumerate(steps):
            if kernel is not None and not kernel.alive():
                culprit = done.pop() if done else None
                if culprit is not None:
                    results[culprit].visible.status = "died"
                    notes.append(f"the kernel stopped after {steps[culprit].cell} (exit code "
                                 f"{kernel.process.returncode}); restarted without that cell")
                stop(kernel)
                kernel = None
            if not gave_up and kernel is None:
                if restarts > MAX_RESTARTS:
                    gave_up = f"the kernel was restarted {MAX_RESTARTS} times; the rest was not run"
                else:
                    kernel = Kernel(sandbox, workdir)
                    try:
                        kernel.start()
                        if not _replay(kernel, steps, done, limits):
                            raise KernelDied("replaying the earlier cells failed")
                    except KernelDied as err:
                        gave_up = f"could not (re)start the kernel: {err}"
                if gave_up:
                    notes.append(gave_up)
            remaining = deadline - time.monotonic()
            if not gave_up and remaining <= 0:
                gave_up = f"the notebook's time limit ({limits.notebook_seconds:g} s) was reached"
                notes.append(gave_up)
            if gave_up:
                results.append(_skipped(step, gave_up))
                continue
            timeout = min(limits.cell_seconds, remaining)
            changes: list[str] = []
            if step.kind == "test":
                ok, changes = kernel.guard(timeout=min(60.0, remaining))
                if not ok and kernel.alive():
                    why = "the grader's guard could not run before this test (the kernel was tampered with)"
                    notes.append(f"{step.cell}: {why}")
                    results.append(StepResult(step.cell, step.kind, Outcome("error", error=why),
                                              Outcome("skipped", error=why) if step.hidden else None))
                    continue
            result = _run_step(kernel, step, timeout)
            result.changes = changes
            results.append(result)
            slow = [o for o in (result.visible, result.hidden)
                    if o and o.status in ("ok", "error") and o.seconds > limits.cell_seconds / 2]
            if slow:
                notes.append(f"{step.cell}: took {slow[0].seconds:.0f} s of its {limits.cell_seconds:g} s limit")
            broken = [o for o in (result.visible, result.hidden) if o and o.status in ("died", "killed", "timeout")]
            if not broken:
                done.append(index)
                continue
            outcome = broken[0]
            if outcome.status == "timeout" and kernel.alive():
                notes.append(f"{step.cell}: {outcome.error}")
                continue
            if kernel.cgroup is not None and kernel.cgroup.hit_limit():
                outcome.error = f"the kernel ran out of memory (limit {limits.memory_bytes / 2**30:g} GiB)"
            notes.append(f"{step.cell}: {outcome.error}; restarted without that cell")
            stop(kernel)
            kernel = None
    finally:
        if kernel is not None:
            kernel.kill()
    return Run(results, notes, time.monotonic() - start, sandbox.isolation)


def _run_step(kernel: Kernel, step: Step, timeout: float) -> StepResult:
    if step.kind != "test":
        outcome, _ = kernel.execute(step.source, timeout=timeout)
        return StepResult(step.cell, step.kind, outcome)
    visible = _run_test_part(kernel, step.source, timeout)
    hidden = None
    if step.hidden:
        if visible.status == "ok":
            hidden = _run_test_part(kernel, step.hidden, timeout, store_history=False)
        else:
            hidden = Outcome("skipped", error="the visible tests failed first")
    return StepResult(step.cell, step.kind, visible, hidden)


def _run_test_part(kernel: Kernel, code: str, timeout: float, store_history: bool = True) -> Outcome:
    nonce = secrets.token_hex(8)
    outcome, value = kernel.execute(f"{code}\n{guard.RECEIPT_NAME} = {nonce!r}", timeout=timeout,
                                    store_history=store_history, receipt_expr=guard.RECEIPT_NAME)
    if outcome.status == "ok" and value != nonce:
        outcome.status = "error"
        outcome.error = "the test did not run to its end (the kernel reported success without it)"
    return outcome
