"""Runs as root in fresh mount, network and PID namespaces, then becomes the student's kernel.

`jaxcourse.sandbox` starts `unshare --mount --net --pid --fork --mount-proc python -m
jaxcourse.jail SPEC` where SPEC is a JSON file it wrote. This program (trusted, before any student
code exists) hides private folders under empty tmpfs mounts, shows back read-only only what the
kernel needs (the Python environment, the course's helper package and data), mounts the
student's private working folder, joins the memory cgroup, sets resource limits, drops to an
unprivileged user and execs the kernel.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
from pathlib import Path

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 32, 4096, 16384
_libc = ctypes.CDLL(None, use_errno=True)


def _encode(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    if _libc.mount(_encode(source), _encode(target), _encode(fstype), ctypes.c_ulong(flags), _encode(data)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def _bind(fd: int, target: str, *, writable: bool) -> None:
    os.makedirs(target, exist_ok=True)
    _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
    if not writable:
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def build(spec: dict) -> None:
    """Mounts: hide, then show back (read-only unless said otherwise)."""
    if spec.get("cgroup_procs"):
        Path(spec["cgroup_procs"]).write_text(str(os.getpid()))
    # Open what must stay visible before hiding its parents; a bind from the fd still works after.
    shown = [(os.open(item["source"], os.O_PATH), item) for item in spec["show"]]
    for path in spec["hide"]:
        size = spec["scratch_bytes"] if path in ("/tmp", "/var/tmp", "/dev/shm") else 16 * 2**20
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    for fd, item in shown:
        _bind(fd, item["target"], writable=item.get("writable", False))
        os.close(fd)


def limit(spec: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name, value in spec.get("rlimits", {}).items():
        resource.setrlimit(getattr(resource, name), (value, value))


def main(argv: list[str]) -> None:
    spec = json.loads(Path(argv[1]).read_text())
    build(spec)
    limit(spec)
    os.setgroups([])
    os.setgid(spec["gid"])
    os.setuid(spec["uid"])
    os.chdir(spec["cwd"])
    os.execve(spec["argv"][0], spec["argv"], spec["env"])


if __name__ == "__main__":
    main(sys.argv)
