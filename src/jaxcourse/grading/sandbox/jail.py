"""Runs as root in fresh mount, network and PID namespaces, then becomes the student's kernel.

A warm kernel (`jaxcourse.grading.sandbox.zygote`) calls `unshare`, forks and `enter`s here; a cold one is
started as `unshare --mount --net --pid --ipc --uts --fork ... python -m jaxcourse.grading.sandbox.jail
SPEC` where SPEC is a JSON file the grader wrote. Either way this code (trusted, before any student
code exists) builds a new root on an empty tmpfs that holds only what a kernel needs, read-only
(the system's /usr, /lib, /etc, the Python environment, the course's helper package and data),
plus the student's private working folder and empty scratch space, chroots into it, joins the
memory cgroup, sets resource limits, drops to an unprivileged user and execs the kernel. Nothing
else on the machine (the course, the gradebook, other students, home folders) exists in there.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
from pathlib import Path

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
# unshare(2): what `unshare --mount --net --pid --ipc --uts` asks for
NAMESPACES = 0x00020000 | 0x40000000 | 0x20000000 | 0x08000000 | 0x04000000
PR_SET_PDEATHSIG = 1
# Shown read-only in the kernel's root; everything else on the machine is simply not there.
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
DEVICES = ("null", "zero", "full", "random", "urandom")
_libc = ctypes.CDLL(None, use_errno=True)


def _encode(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    if _libc.mount(_encode(source), _encode(target), _encode(fstype), ctypes.c_ulong(flags), _encode(data)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def unmount(target: str) -> None:
    """Detach a mount (lazily: a process still inside keeps it until it ends)."""
    if _libc.umount2(_encode(target), ctypes.c_int(MNT_DETACH)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"umount {target}: {os.strerror(errno)}")


def _bind(fd: int, target: str, *, writable: bool) -> None:
    if not os.path.exists(target):
        os.makedirs(target, exist_ok=True)
    mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
    if not writable:
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def join_cgroups(spec: dict) -> None:
    for procs in spec.get("cgroup_procs", []):
        Path(procs).write_text(str(os.getpid()))


def unshare() -> None:
    """Fresh mount, network, PID, IPC and UTS namespaces for this process (its next child is the
    new PID namespace's first process); mounts made from here on stay in it."""
    if _libc.unshare(ctypes.c_int(NAMESPACES)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"unshare: {os.strerror(errno)}")
    mount(None, "/", None, MS_REC | MS_PRIVATE)


def die_with_parent() -> None:
    """SIGKILL when the process that waits for this one dies (set after the last change of user:
    a change of credentials clears it)."""
    _libc.prctl(PR_SET_PDEATHSIG, 9)


def build(spec: dict) -> None:
    """A new root on an empty tmpfs holding only what the kernel needs, then chroot into it."""
    root = spec["root"]
    items = [{"source": p, "target": p} for p in SYSTEM if os.path.isdir(p)] + spec["show"]
    items += [{"source": f"/dev/{name}", "target": f"/dev/{name}", "writable": True, "file": True}
              for name in DEVICES if os.path.exists(f"/dev/{name}")]
    # Open everything first: a bind from the fd works whatever gets mounted over its path later.
    shown = [(os.open(item["source"], os.O_PATH), item) for item in items]
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    for scratch in ("/tmp", "/dev/shm", "/var/tmp"):
        os.makedirs(root + scratch, exist_ok=True)
        mount("tmpfs", root + scratch, "tmpfs", MS_NOSUID | MS_NODEV, f"size={spec['scratch_bytes']},mode=1777")
    for fd, item in sorted(shown, key=lambda pair: pair[1]["target"].count("/")):
        target = root + item["target"]
        if item.get("file"):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            Path(target).touch()
        _bind(fd, target, writable=item.get("writable", False))
        os.close(fd)
    os.makedirs(root + "/proc", exist_ok=True)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV)
    os.chroot(root)
    os.chdir("/")


def limit(spec: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name, value in spec.get("rlimits", {}).items():
        resource.setrlimit(getattr(resource, name), (value, value))


def become(spec: dict) -> None:
    """Take the limits, then become the unprivileged user: for good (no saved root ids)."""
    limit(spec)
    os.setgroups([])
    os.setgid(spec["gid"])
    os.setuid(spec["uid"])


def enter(spec: dict) -> None:
    """Build the root, chroot, limit, and become the unprivileged user in the working folder."""
    build(spec)
    become(spec)
    os.chdir(spec["cwd"])


def main(argv: list[str]) -> None:
    spec = json.loads(Path(argv[1]).read_text())
    join_cgroups(spec)
    enter(spec)
    os.execve(spec["argv"][0], spec["argv"], spec["env"])


if __name__ == "__main__":
    main(sys.argv)
