"""Where and how a student's kernel runs: limits, the sandbox settings, namespaces and cgroups.

Where the machine allows (root, Linux namespaces), each kernel runs in its own mount, network
and PID namespaces (`jaxcourse.grading.sandbox.jail`) as the unprivileged user `nobody`, chrooted into a
new root that holds only the system's libraries, the Python environment and the course helpers
(all read-only) and its private working folder: the course, the gradebook, other students and
home folders are not there at all. There is no network, and a memory cgroup caps its memory.
Where the grader is root without the privileges for namespaces (a platform's container: Gradescope,
PrairieLearn), each kernel is a plain process that becomes a user of its own, with no name and no
files but its folder ("user" isolation): it cannot signal the grader or another kernel, write what
root owns (results, the course) or read what the grader keeps private.
Elsewhere it is a plain process with the same time limits, and `Run.isolation` says so.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

NOBODY = 65534
# Without namespaces, each kernel is a user of its own, one of these uids (no name, no files):
# kernels cannot signal one another, and what one leaves running is found by its owner.
KERNEL_UIDS = range(0x4A_0000, 0x4A_0000 + 2**16)
INSIDE = "/tmp/work"
CACHE_INSIDE = "/jaxcache"
CGROUPS = Path("/sys/fs/cgroup")  # v2 has cgroup.controllers here; v1 one folder per controller
UNSHARE = ["unshare", "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--mount-proc"]


@dataclass(frozen=True)
class Limits:
    cell_seconds: float = 300.0
    notebook_seconds: float = 1200.0
    memory_bytes: int = 4 * 2**30
    output_chars: int = 20_000  # kept per cell
    notebook_output_chars: int = 200_000  # kept per notebook, all cells together
    message_bytes: int = 4 * 2**20  # one output message larger than this is dropped unread
    disk_bytes: int = 256 * 2**20  # the working folder and each scratch folder (tmpfs)
    max_pids: int = 512  # processes and threads of one kernel together
    start_seconds: float = 60.0
    interrupt_grace: float = 5.0


# --- where and how a kernel runs ---------------------------------------------------------------


def namespaces_available() -> bool:
    """Root, Linux, util-linux `unshare`, and the kernel lets us make the namespaces."""
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*UNSHARE, "true"], capture_output=True)
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


# What a missing cgroup setting leaves unenforced, as the first words of a run note.
NO_MEMORY_CAP = "no memory cap"
NO_PIDS_CAP = "no cap on processes and threads"
NOT_TRACKED = "no record of the kernel's processes"
OUTLIVED = "processes may have outlived grading"
# Exactly the notes below, so that a note that starts with a student's file name cannot pass for one.
ENFORCEMENT_GAP = re.compile(
    rf"({NO_MEMORY_CAP}|{NO_PIDS_CAP}): cannot (make a cgroup|set [a-z_.]+) in /[\w/.-]* \([\w ,.'-]*\)"
    rf"|{NOT_TRACKED}: one it detaches \(setsid, double fork\) may outlive grading"
    rf"|{OUTLIVED}: \d+ of its kernel's processes still ran after 10 s of SIGKILL")
_SETTING_GAPS = {"memory.max": NO_MEMORY_CAP, "memory.limit_in_bytes": NO_MEMORY_CAP, "pids.max": NO_PIDS_CAP}


class Cgroups:
    """One kernel's cgroups (v2, or v1's memory and pids hierarchies): they cap its memory and its
    number of tasks, and know every process it started, however it detached itself (setsid,
    double fork), so that all of them can be killed. What could not be set up is in `missing`,
    one note each (a cgroup that could not be made, a controller this machine does not enable)."""

    def __init__(self, memory_bytes: int, max_pids: int):
        self.paths: list[Path] = []
        self.missing: list[str] = []
        name = f"jaxcourse-{os.getpid()}-{uuid.uuid4().hex[:12]}"  # the grader's pid: whose it is
        if (CGROUPS / "cgroup.controllers").is_file():
            # memory.swap.max is absent without swap accounting: memory.max still caps the RAM
            wanted = {"memory.max": memory_bytes, "memory.swap.max": 0, "pids.max": max_pids}
            self._make(CGROUPS / name, wanted)
        else:
            self._make(CGROUPS / "memory" / name, {"memory.limit_in_bytes": memory_bytes})
            self._make(CGROUPS / "pids" / name, {"pids.max": max_pids})
        if not self.paths:
            self.missing.append(f"{NOT_TRACKED}: one it detaches (setsid, double fork) may outlive grading")

    def _make(self, path: Path, settings: dict) -> None:
        try:
            path.mkdir()
        except OSError as err:
            self.missing += [f"{_SETTING_GAPS[key]}: cannot make a cgroup in {path.parent} ({err.strerror or err})"
                             for key in settings if key in _SETTING_GAPS]
            return
        self.paths.append(path)
        for key, value in settings.items():
            try:
                (path / key).write_text(str(value))
            except OSError as err:  # a controller this machine does not enable
                if key in _SETTING_GAPS:
                    self.missing.append(f"{_SETTING_GAPS[key]}: cannot set {key} in {path.parent} "
                                        f"({err.strerror or err})")

    @property
    def procs(self) -> list[str]:
        """The files a process writes its pid to, to join every cgroup."""
        return [str(p / "cgroup.procs") for p in self.paths]

    def members(self) -> set[int]:
        found = set()
        for path in self.paths:
            try:
                found |= {int(line) for line in (path / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                continue
        return found

    def kill_all(self, seconds: float = 10.0) -> bool:
        """SIGKILL every member until none is left; True when the cgroups are empty."""
        return kill_until_gone(self.members, seconds)

    def hit_limit(self) -> bool:
        for path in self.paths:
            for name, test in (("memory.failcnt", lambda t: int(t) > 0),
                               ("memory.events", lambda t: "oom_kill 0" not in t and "oom_kill" in t)):
                try:
                    if test((path / name).read_text()):
                        return True
                except (OSError, ValueError):
                    continue
        return False

    def remove(self) -> None:
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def reachable_by_others(path: Path) -> bool:
    """Whether a user other than the owners (a kernel's) can reach `path` by its name."""
    return all(folder.stat().st_mode & 0o001 for folder in [path, *path.parents] if folder.exists())


def kill_until_gone(processes, seconds: float = 10.0) -> bool:
    """SIGKILL what `processes()` lists until it lists nothing; True when nothing is left."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = processes()
        if not left:
            return True
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    return not processes()


def kernel_processes() -> list[int]:
    """Every process whose owner is one of the kernels' users (`KERNEL_UIDS`)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and proc.stat().st_uid in KERNEL_UIDS:
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def folder_prefix() -> str:
    """Of every folder a run makes in the system's temporary folder: the grader's pid says whose."""
    return f"jc-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mounts_under(folder: str) -> list[str]:
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    points = [line.split()[4].replace("\\040", " ") for line in lines if len(line.split()) > 4]
    return sorted((m for m in points if m == folder or m.startswith(folder + "/")), key=len, reverse=True)


def sweep(temp: Path | None = None) -> list[str]:
    """Remove what runs that were stopped or crashed left behind: the working folders of their
    kernels (and the tmpfs mounted there) and their cgroups, killing what is still in them. Only a
    dead grader's; return one line per thing removed."""
    import tempfile

    from jaxcourse.grading.sandbox import jail

    removed = []
    for folder in sorted(Path(temp or tempfile.gettempdir()).glob("jc-*-*")):
        parts = folder.name.split("-")
        owner = parts[2] if parts[1] == "zygote" else parts[1]
        if not owner.isdigit() or _alive(int(owner)) or not folder.is_dir():
            continue
        for mount_point in _mounts_under(str(folder.resolve())):
            try:
                jail.unmount(mount_point)
            except OSError:
                pass
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(f"removed {folder} (left by grader process {owner}, which is gone)")
    for hierarchy in (CGROUPS, CGROUPS / "memory", CGROUPS / "pids"):
        for path in sorted(hierarchy.glob("jaxcourse-*-*")) if hierarchy.is_dir() else []:
            owner = path.name.split("-")[1]
            if not owner.isdigit() or _alive(int(owner)):
                continue
            group = Cgroups.__new__(Cgroups)
            group.paths, group.missing = [path], []
            group.kill_all(seconds=2.0)
            group.remove()
            removed.append(f"removed cgroup {path} (left by grader process {owner}, which is gone)")
    return removed


def kernel_cgroups(limits: Limits) -> Cgroups | None:
    """A kernel's cgroups where the grader is root (only root may make them); None elsewhere."""
    return Cgroups(limits.memory_bytes, limits.max_pids) if os.geteuid() == 0 else None


@dataclass
class Sandbox:
    """How kernels are started for one grading run."""

    env: dict = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    cache: str | None = None  # the compilation cache a kernel of these settings sees at /jaxcache
    cache_writable: bool = False
    test_cache: str | None = None  # the test kernels' own (`pool.tests_sandbox`): no student's kernel sees it
    isolate: bool | None = None
    as_user: bool | None = None  # without namespaces, each kernel a user of its own (root only; default: when root)
    warm: bool = True  # kernels forked from a zygote (Linux); False: each a fresh Python
    preload: tuple[str, ...] = ()  # what the zygote imports besides ipykernel and JAX

    def __post_init__(self):
        if self.isolate is None:
            self.isolate = namespaces_available()
        if self.as_user is None:  # and only where any user can read Python and the course helpers
            self.as_user = (not self.isolate and sys.platform == "linux" and os.geteuid() == 0
                              and all(reachable_by_others(p) for p in package_dirs()))
        self.as_user = bool(self.as_user) and not self.isolate
        self.warm = self.warm and hasattr(os, "pidfd_open")

    @property
    def isolation(self) -> str:
        return "namespaces" if self.isolate else "user" if self.as_user else "process"


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
    passed = {k: v for k, v in os.environ.items() if k.startswith(("XLA_", "JAX_")) or k == "JAXCOURSE_MNIST_SOURCE"}
    # host paths (a compilation cache in the course's grading/ folder, say) stay on the host;
    # of XLA_FLAGS, only the flags that name no path (--xla_dump_to=/home/... stays out)
    passed["XLA_FLAGS"] = " ".join(f for f in passed.get("XLA_FLAGS", "").split() if "/" not in f)
    env.update({k: v for k, v in passed.items() if "/" not in v and v})
    if sandbox.cache:
        env.update({
            "JAX_COMPILATION_CACHE_DIR": CACHE_INSIDE if sandbox.isolate else sandbox.cache,
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        })
    env.update(sandbox.env)
    return env


def jail_spec(sandbox: Sandbox, workdir: Path, parent: Path, cgroup: Cgroups | None, argv: list[str],
              env: dict) -> dict:
    """What `jail` builds a kernel's root from: its folder, the packages, the cache, the limits."""
    show = [{"source": str(workdir), "target": INSIDE, "writable": True}]
    show += [{"source": str(p), "target": str(p)} for p in package_dirs()]
    if sandbox.cache:
        Path(sandbox.cache).mkdir(parents=True, exist_ok=True)
        if sandbox.cache_writable:
            os.chown(sandbox.cache, NOBODY, NOBODY, follow_symlinks=False)
        show.append({"source": sandbox.cache, "target": CACHE_INSIDE, "writable": sandbox.cache_writable})
    root = parent / f"root-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    return {
        "root": str(root), "show": show, "cwd": INSIDE, "argv": argv, "env": env,
        "uid": NOBODY, "gid": NOBODY, "scratch_bytes": sandbox.limits.disk_bytes,
        "cgroup_procs": cgroup.procs if cgroup else [],
        "rlimits": {"RLIMIT_FSIZE": sandbox.limits.disk_bytes, "RLIMIT_NOFILE": 4096},
    }


def copy_matplotlib_cache(workdir: Path) -> None:
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
