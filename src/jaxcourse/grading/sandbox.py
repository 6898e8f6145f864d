"""Where and how a student's kernel runs: limits, the sandbox settings, namespaces and cgroups.

Where the machine allows (root, Linux namespaces), each kernel runs in its own mount, network
and PID namespaces (`jaxcourse.grading.jail`) as the unprivileged user `nobody`, chrooted into a
new root that holds only the system's libraries, the Python environment and the course helpers
(all read-only) and its private working folder: the course, the gradebook, other students and
home folders are not there at all. There is no network, and a memory cgroup caps its memory.
Elsewhere it is a plain process with the same time limits, and `Run.isolation` says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

NOBODY = 65534
INSIDE = "/tmp/work"
CGROUP_V1 = Path("/sys/fs/cgroup/memory")
CGROUP_V2 = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Limits:
    cell_seconds: float = 300.0
    notebook_seconds: float = 1200.0
    memory_bytes: int = 4 * 2**30
    output_chars: int = 20_000
    start_seconds: float = 60.0
    interrupt_grace: float = 5.0


# --- where and how a kernel runs ---------------------------------------------------------------


def namespaces_available() -> bool:
    """Root, Linux, util-linux `unshare`, and the kernel lets us make the namespaces."""
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "true"],
                           capture_output=True)
    return probe.returncode == 0


def package_dirs() -> list[Path]:
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


def kernel_env(sandbox: Sandbox, home: str) -> dict[str, str]:
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
