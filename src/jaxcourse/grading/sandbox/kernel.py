"""One sandboxed ipykernel, spoken to over Unix sockets.

The grader (a trusted process) sends cells one at a time, so the hidden tests exist only in its
memory until the moment they run. A kernel is a student's (the notebook's cells) or a test
kernel (the test cells, which decide pass or fail; `remote`, `relay`).
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jaxcourse.grading.intake.steps import Outcome
from jaxcourse.grading.sandbox import guard, jail, watchdog, zygote
from jaxcourse.grading.sandbox.notebook_outputs import plain_output
from jaxcourse.grading.sandbox.settings import (
    INSIDE,
    KERNEL_UIDS,
    NOBODY,
    OUTLIVED,
    UNSHARE,
    Cgroups,
    Sandbox,
    copy_matplotlib_cache,
    jail_spec,
    kernel_cgroups,
    kernel_env,
    reachable_by_others,
)
from jaxcourse.grading.sandbox.sockets import Sockets, SocketsClosed


@dataclass
class OutputBudget:
    """Characters of output still to keep for one notebook, shared by its kernels (restarts too)."""

    remaining: int


class Kernel:
    """One ipykernel process, sandboxed, spoken to over Unix sockets.

    `parent` is a private folder of the grader's (root-owned, mode 700). Each kernel gets a fresh
    working folder inside it, written by the grader before student code can touch it, on a
    size-capped tmpfs where the machine allows, and removed with the kernel: a restarted kernel
    never reuses what an earlier one could write (a planted symlink, a forged kernel.json).
    """

    def __init__(self, sandbox: Sandbox, parent: Path, budget: OutputBudget | None = None,
                 owns_parent: bool = False, role: str = "student"):
        self.sandbox = sandbox
        self.role = role  # "student": runs the notebook's cells; "tests": runs the test cells (`remote`)
        self.lent_for, self.uses = "", 0  # a test kernel is lent to notebook after notebook (`pool`)
        self.parent = parent
        self.owns_parent = owns_parent  # remove `parent` too when the kernel stops
        self.workdir = parent / f"w-{uuid.uuid4().hex[:8]}"
        self.secret = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self.sockets = Sockets()
        self.cgroup: Cgroups | None = None
        self.mounted = False
        self.budget = budget or OutputBudget(sandbox.limits.notebook_output_chars)
        self.gaps: list[str] = []  # what could not be enforced on this kernel, for the run's notes

    def _connection(self, where: str) -> dict:
        return {"transport": "ipc", "ip": f"{where}/kernel", "key": self.key, "signature_scheme": "hmac-sha256",
                "shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5,
                "kernel_name": "python3"}

    def _make_workdir(self) -> None:
        watchdog.started(self)
        self.workdir.mkdir(mode=0o700)
        if self.sandbox.isolate:
            jail.mount("tmpfs", str(self.workdir), "tmpfs", jail.MS_NOSUID | jail.MS_NODEV,
                       f"size={self.sandbox.limits.disk_bytes},mode=700")
            self.mounted = True
        copy_matplotlib_cache(self.workdir)

    def _hand_over(self, uid: int = NOBODY) -> None:
        """Give the fresh working folder to the kernel's user; nothing in it is a link (the grader made it all)."""
        for folder, dirs, files in os.walk(self.workdir):
            for name in [*dirs, *files]:
                os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)
        os.chown(self.workdir, uid, uid, follow_symlinks=False)

    def _own_user(self) -> dict:
        """Without namespaces, as root: the kernel becomes a user of its own in its own folder,
        which it reaches through the grader's folder (traversable, not listable), and reads the
        shared compilation cache by its path where every folder above it lets others through;
        everything else the grader made stays its own."""
        os.chmod(self.parent, 0o711)
        uid = KERNEL_UIDS[secrets.randbelow(len(KERNEL_UIDS))]
        if self.sandbox.cache and self.sandbox.cache_writable:
            Path(self.sandbox.cache).mkdir(parents=True, exist_ok=True)
            os.chown(self.sandbox.cache, uid, uid, follow_symlinks=False)
        limits = self.sandbox.limits
        return {"uid": uid, "gid": uid,
                "rlimits": {"RLIMIT_FSIZE": limits.disk_bytes, "RLIMIT_NOFILE": 4096, "RLIMIT_NPROC": limits.max_pids}}

    def start(self) -> None:
        from jupyter_client import BlockingKernelClient

        self.key = secrets.token_hex(16)
        inside = INSIDE if self.sandbox.isolate else str(self.workdir)
        self._make_workdir()
        (self.workdir / "kernel.json").write_text(json.dumps(self._connection(inside)))
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", f"{inside}/kernel.json",
                "--HistoryManager.enabled=False", "--IPKernelApp.quiet=True"]
        env = kernel_env(self.sandbox, inside)
        limits = self.sandbox.limits
        self.cgroup = kernel_cgroups(limits)
        self.gaps += self.cgroup.missing if self.cgroup else []
        user = self._own_user() if self.sandbox.as_user and self.role == "student" else None
        if user and self.sandbox.cache and not reachable_by_others(Path(self.sandbox.cache)):
            env.pop("JAX_COMPILATION_CACHE_DIR", None)  # it compiles everything itself
        if self.sandbox.isolate or user:
            self._hand_over(user["uid"] if user else NOBODY)
        spec = (jail_spec(self.sandbox, self.workdir, self.parent, self.cgroup, argv, env)
                if self.sandbox.isolate else None)
        if self.sandbox.warm:
            request = {"jail": spec, "user": user, "env": env, "argv": ["ipykernel_launcher", *argv[3:]], "cwd": str(self.workdir),
                       "log": str(self._log_path()), "cgroup_procs": self.cgroup.procs if self.cgroup else []}
            try:
                self.process = zygote.for_env(kernel_env(self.sandbox, INSIDE), self.sandbox.preload).spawn(request)
            except zygote.ZygoteError as err:
                raise KernelDied(str(err)) from None
        elif spec is not None:
            spec_path = self.parent / f"jail-{uuid.uuid4().hex[:8]}.json"
            spec_path.write_text(json.dumps(spec))
            command = [*UNSHARE, "--kill-child", sys.executable, "-m", "jaxcourse.grading.sandbox.jail", str(spec_path)]
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log(),
                                            stderr=subprocess.STDOUT, start_new_session=True,
                                            env={"PATH": env["PATH"], "LANG": "C.UTF-8"})
        else:
            procs = self.cgroup.procs if self.cgroup else []

            def join_cgroup():
                for path in procs:
                    Path(path).write_text(str(os.getpid()))
                if user:
                    jail.become(user)

            self.process = subprocess.Popen(argv, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
                                            stdout=self._log(), stderr=subprocess.STDOUT,
                                            start_new_session=True, preexec_fn=join_cgroup)
        import zmq

        context = zmq.Context()
        if self.role == "student":  # the test kernel is trusted: its requests may carry big arrays
            context.setsockopt(zmq.MAXMSGSIZE, limits.message_bytes)
        client = BlockingKernelClient(context=context)
        client.load_connection_info(self._connection(str(self.workdir)))
        client.start_channels(hb=False)  # no heartbeat thread: `alive` asks the process itself
        self.sockets.attach(client)
        with self._using_client():
            self._wait_until_ready(client)

    def _wait_until_ready(self, client) -> None:
        deadline = time.monotonic() + self.sandbox.limits.start_seconds
        # The shell queues a request until the kernel is up: its reply says the kernel is there.
        # Then ask again and wait for the answer on iopub, whose subscription must be in place
        # before the first cell (jupyter_client's wait_for_ready waits 0.2 s of silence instead).
        first = client.kernel_info()
        while self.sockets.reply(first, self.alive, wait=0.5) is None:
            self._check_starting(deadline)
        while not self.sockets.heard_back(client.iopub_channel, 0.1):
            self._check_starting(deadline)
        # the compilation cache is read-only for kernels: JAX warns at each entry it cannot add
        bootstrap = ("import warnings as _w\n_w.filterwarnings('ignore', "
                     "message='Error writing persistent compilation cache entry')\ndel _w\n")
        if self.role == "student":
            # the server first: the guard's snapshot holds it, and puts it back before every test
            bootstrap += ("import jaxcourse.grading.verdicts.remote as _r\n_r.install_server(get_ipython())\ndel _r\n"
                          f"import jaxcourse.grading.sandbox.guard as _g\n_g.install({self.secret!r})\ndel _g\n")
        else:
            bootstrap += "import jaxcourse.grading.verdicts.remote as _r\n_r.install_tests(get_ipython())\ndel _r\n"
        outcome, _ = self.execute(bootstrap, timeout=self.sandbox.limits.start_seconds, store_history=False)
        if outcome.status != "ok":
            raise KernelDied(f"the grader's set-up failed in the kernel: {outcome.error}")

    def _check_starting(self, deadline: float) -> None:
        if not self.alive():
            raise KernelDied(f"the kernel exited while starting (code {self.process.returncode}): {self.log_tail()}")
        if time.monotonic() > deadline:
            raise KernelDied("the kernel did not start in time")

    def _log_path(self) -> Path:
        # The kernel's own stderr (student code's goes to its outputs). A student's kernel keeps
        # it in its own size-capped folder: student code holds that descriptor, so it must not be
        # a host file's. The test kernel's stays with the grader.
        folder = self.workdir if self.role == "student" else self.parent
        self.log_path = folder / f".kernel-{uuid.uuid4().hex[:8]}.log"
        return self.log_path

    def _log(self):
        return open(self._log_path(), "wb")

    def log_tail(self, chars: int = 1500) -> str:
        try:
            with open(os.open(self.log_path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as log:  # never a link planted
                log.seek(max(0, os.fstat(log.fileno()).st_size - 4 * chars))
                return log.read().decode(errors="replace")[-chars:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def client(self):
        return self.sockets.client

    @contextmanager
    def _using_client(self):
        try:
            with self.sockets.using() as client:
                yield client
        except SocketsClosed as err:
            raise KernelDied(str(err)) from None

    def interrupt(self) -> None:
        with self._using_client() as client:
            client.control_channel.send(client.session.msg("interrupt_request", content={}))

    def stop_processes(self) -> None:
        """Kill the kernel's processes, from any thread (the watchdog's): its sockets stay for the
        thread that uses them, which then finds the kernel dead."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.cgroup is not None:
            self.cgroup.kill_all(seconds=2.0)

    def kill(self) -> None:
        """Stop the kernel and every process it started, and remove its working folder."""
        self.sockets.stop()  # now, or by the thread using them when it is done
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.cgroup is not None and not self.cgroup.kill_all():  # what escaped the process group
            self.gaps.append(f"{OUTLIVED}: {len(self.cgroup.members())} of its kernel's processes "
                             "still ran after 10 s of SIGKILL")
        if self.process is not None:
            self.process.wait()
            if isinstance(self.process, zygote.Forked):
                self.process.close()
        if self.cgroup is not None:
            self.cgroup.remove()
        if self.mounted:
            jail.unmount(str(self.workdir))
            self.mounted = False
        shutil.rmtree(self.parent if self.owns_parent else self.workdir, ignore_errors=True)
        watchdog.stopped(self)

    def execute(self, code: str, *, timeout: float, store_history: bool = True,
                receipt_expr: str | None = None, on_input=None,
                keep_outputs: bool = True) -> tuple[Outcome, str | None]:
        try:
            with self._using_client():
                return self._execute(code, timeout=timeout, store_history=store_history,
                                     receipt_expr=receipt_expr, on_input=on_input, keep_outputs=keep_outputs)
        finally:
            watchdog.beat()

    def _execute(self, code: str, *, timeout: float, store_history: bool = True,
                 receipt_expr: str | None = None, on_input=None,
                 keep_outputs: bool = True) -> tuple[Outcome, str | None]:
        """Run `code`; return its outcome and, if asked, the value of `receipt_expr` afterwards.

        Output is kept up to the cell's share and what is left of the notebook's (`budget`);
        one message over `Limits.message_bytes` is dropped by ZeroMQ before it is read. With
        `on_input`, the code may call `input()`: each prompt goes to `on_input`, whose answer is
        the reply (the time it takes is not the cell's). Without `keep_outputs`, all output is
        dropped.
        """
        import zmq

        limits = self.sandbox.limits
        expressions = {"receipt": receipt_expr} if receipt_expr else {}
        start = time.monotonic()
        msg_id = self.client.execute(code, store_history=store_history, allow_stdin=on_input is not None,
                                     stop_on_error=False, user_expressions=expressions)
        room = max(0, min(limits.output_chars, self.budget.remaining)) if keep_outputs else 0
        poller = None
        if on_input is not None:
            poller = zmq.Poller()
            poller.register(self.client.iopub_channel.socket, zmq.POLLIN)
            poller.register(self.client.stdin_channel.socket, zmq.POLLIN)
        outputs: list = []
        kept = dropped = 0
        error = ""
        idle = False
        reply = None
        saw_idle = dropped_whole = False
        quiet_since = None
        interrupted_at = None
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
                if poller is not None:
                    ready = dict(poller.poll(200))
                    if self.client.stdin_channel.socket in ready:
                        started = time.monotonic()
                        self.sockets.answer_input(msg_id, on_input)
                        start += time.monotonic() - started
                    if self.client.iopub_channel.socket not in ready:
                        raise queue.Empty
                    message = self.client.get_iopub_msg(timeout=0)
                else:
                    message = self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                # An oversized message drops iopub's connection, and the idle status with it: the
                # shell's reply then says the cell is done.
                reply = reply or self.sockets.reply(msg_id, self.alive, wait=0.0)
                if reply is not None:
                    quiet_since = quiet_since or time.monotonic()
                    idle = time.monotonic() - quiet_since > 1.0
                continue
            quiet_since = None
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "status":
                idle = saw_idle = message["content"]["execution_state"] == "idle"
                continue
            if kind not in ("stream", "display_data", "execute_result", "error"):
                continue
            output = plain_output(message)
            if kind == "error":
                error = f"{output['ename']}: {output['evalue']}"[:2000]
            size = len(json.dumps(output)) if keep_outputs else 0
            if not keep_outputs or kept + size > room:
                dropped += size
                continue
            kept += size
            outputs.append(output)
        self.budget.remaining -= kept
        if reply is not None and not saw_idle:
            dropped_whole = True
            self.sockets.reconnect_iopub()
        if dropped_whole:
            outputs.append({"output_type": "stream", "name": "stderr",
                            "text": f"[grader: output over {limits.message_bytes:,} bytes in one message "
                                    "not kept]\n"})
        if dropped:
            outputs.append({"output_type": "stream", "name": "stderr",
                            "text": f"[grader: {dropped:,} more characters of output not kept]\n"})
        reply = reply or self.sockets.reply(msg_id, self.alive)
        seconds = time.monotonic() - start
        if interrupted_at is not None:
            return Outcome("timeout", outputs, f"still running after {timeout:g} s: interrupted", seconds), None
        content = reply.get("content", {}) if reply else {}
        status = "ok"
        if content.get("status") != "ok":
            status = "error"
            error = error or f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"
        value = None
        found = content.get("user_expressions", {}).get("receipt", {})
        if found.get("status") == "ok":
            value = found.get("data", {}).get("text/plain", "").strip("'\"")
        return Outcome(status, outputs, error, seconds), value

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
