"""A kernel's ZeroMQ client: the requests and replies of one kernel, stoppable from any thread.

ZeroMQ sockets are not thread-safe, and a context cannot end while one of its sockets is in use
(`zmq.Context.term` waits). A kernel stopped from another thread (the watchdog's, a run's end)
therefore leaves its client to the thread using it, which closes it on its way out (`using`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager


class SocketsClosed(RuntimeError):
    """The kernel was stopped: its sockets are closed, or closing."""


class Sockets:
    def __init__(self):
        self.client = None  # jupyter_client's BlockingKernelClient, once attached
        self._lock = threading.Lock()
        self._users = 0
        self._stopped = False

    def attach(self, client) -> None:
        self.client = client

    @contextmanager
    def using(self):
        """The client, for this thread, until the block ends; SocketsClosed once stopped."""
        with self._lock:
            entered = not self._stopped
            self._users += entered
        if not entered:
            self._close()
            raise SocketsClosed("the kernel was stopped")
        try:
            yield self.client
        finally:
            with self._lock:
                self._users -= 1
                last = self._stopped and not self._users
            if last:
                self._close()

    def stop(self) -> None:
        """From any thread: close now if no thread uses the sockets, else when the last one is done."""
        with self._lock:
            self._stopped = True
            idle = not self._users
        if idle:
            self._close()

    def _close(self) -> None:
        with self._lock:
            client, self.client = self.client, None
        if client is not None:
            client.stop_channels()
            client.context.destroy(linger=0)

    def answer_input(self, msg_id: str, on_input) -> None:
        try:
            message = self.client.stdin_channel.get_msg(timeout=0)
        except queue.Empty:
            return
        if (message.get("msg_type") == "input_request"
                and message.get("parent_header", {}).get("msg_id") == msg_id):
            self.client.input(on_input(str(message["content"].get("prompt", ""))))

    def heard_back(self, channel, seconds: float) -> bool:
        """Ask for kernel_info; True once its status arrives on iopub (so nothing sent from now on
        is lost to a subscription still being set up). jupyter_client's `wait_for_ready` instead
        waits for 0.2 s of silence, a fifth of a warm kernel's start."""
        msg_id = self.client.kernel_info()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                message = channel.get_msg(timeout=0.05)
            except queue.Empty:
                continue
            if message.get("parent_header", {}).get("msg_id") == msg_id:
                return True
        return False

    def reconnect_iopub(self) -> None:
        """ZeroMQ drops the connection that carried an oversized message: connect again, and wait
        until messages flow so the next cell loses nothing."""
        self.client.iopub_channel.close()
        self.client._iopub_channel = None
        channel = self.client.iopub_channel
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not self.heard_back(channel, 0.5):
            pass

    def reply(self, msg_id: str, alive: Callable[[], bool], wait: float = 10.0) -> dict | None:
        deadline = time.monotonic() + wait
        while True:
            try:
                reply = self.client.get_shell_msg(timeout=0 if wait == 0 else 0.5)
            except queue.Empty:
                if not alive() or time.monotonic() >= deadline:
                    return None
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return reply
