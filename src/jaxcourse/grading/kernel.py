"""One sandboxed ipykernel, spoken to over Unix sockets.

The grader (a trusted process) sends cells one at a time, so the hidden tests exist only in its
memory until the moment they run; it decides pass or fail from the kernel's reply, after
`jaxcourse.grading.guard` has put back anything student code patched.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from jaxcourse.grading import guard
from jaxcourse.grading.sandbox import (
    INSIDE,
    NOBODY,
    MemoryCgroup,
    Sandbox,
    kernel_env,
    package_dirs,
)
from jaxcourse.grading.steps import Outcome


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
        env = kernel_env(self.sandbox, inside)
        self.cgroup = MemoryCgroup(self.sandbox.limits.memory_bytes) if os.geteuid() == 0 else None
        if self.sandbox.isolate:
            os.chown(self.workdir, NOBODY, NOBODY)
            for path in self.workdir.rglob("*"):
                os.chown(path, NOBODY, NOBODY)
            spec = self._jail_spec(argv, env)
            spec_path = self.workdir.parent / f"jail-{uuid.uuid4().hex[:8]}.json"
            spec_path.write_text(json.dumps(spec))
            command = ["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child",
                       sys.executable, "-m", "jaxcourse.grading.jail", str(spec_path)]
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
        bootstrap = (f"import jaxcourse.grading.guard as _g\n_g.install({self.secret!r})\ndel _g\n")
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
        show += [{"source": str(p), "target": str(p)} for p in package_dirs()]
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
