"""What every notebook's set-up cell runs: the course's settings and a check of the runtime.

`check_runtime()` says in one line which JAX and backend it found, and what to install when they
do not fit the hardware (a GPU or TPU runtime whose JAX only has the CPU backend). It never
raises. The badges and set-up cells themselves are stamped by `jaxcourse.course.badges`.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

# used when no pyproject.toml is found (an installed, not editable, copy of the package)
DEFAULT_REPOSITORY = "https://github.com/jax-course/jax-from-first-principles"
DEFAULT_BRANCH = "main"
DEFAULT_JAX_FLOOR = "0.7"

@dataclass(frozen=True)
class Config:
    repository: str = DEFAULT_REPOSITORY
    branch: str = DEFAULT_BRANCH
    jax_floor: str = DEFAULT_JAX_FLOOR
    # pyproject's dependencies, as written: `jaxcourse badges` stamps some into set-up cells (an
    # installed copy without pyproject.toml has none; the settings above are what identifies it)
    requirements: tuple[str, ...] = field(default=(), compare=False)

    @property
    def owner_and_name(self) -> str:
        """`owner/name` of the GitHub repository."""
        match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", self.repository)
        if not match:
            raise ValueError(f"repository must be https://github.com/OWNER/NAME, got {self.repository!r}")
        return f"{match[1]}/{match[2]}"


def _pyproject_near_package() -> Path:
    return Path(__file__).resolve().parents[2] / "pyproject.toml"


def _jax_floor(dependencies: list[str]) -> str | None:
    for requirement in dependencies:
        match = re.match(r"\s*jax\s*>=\s*([0-9][0-9A-Za-z.]*)", requirement)
        if match:
            return match[1]
    return None


def read_config(pyproject: Path | None = None) -> Config:
    """The course's settings from pyproject.toml (the checkout's own by default), else defaults."""
    path = Path(pyproject) if pyproject else _pyproject_near_package()
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return Config()
    table = data.get("tool", {}).get("jaxcourse", {})
    return Config(
        repository=table.get("repository", DEFAULT_REPOSITORY),
        branch=table.get("branch", DEFAULT_BRANCH),
        jax_floor=_jax_floor(data.get("project", {}).get("dependencies", [])) or DEFAULT_JAX_FLOOR,
        requirements=tuple(data.get("project", {}).get("dependencies", [])),
    )


# --- what the runtime has, and what to do about it ------------------------------------------------


@dataclass(frozen=True)
class Facts:
    jax_version: str | None  # None: JAX is not installed
    backend: str | None  # jax.default_backend(); None when it could not be read
    gpu_present: bool
    tpu_present: bool
    on_colab: bool
    jax_floor: str = DEFAULT_JAX_FLOOR


def version_tuple(version: str) -> tuple[int, ...]:
    """(0, 10, 2) for "0.10.2", (0, 4, 33) for "0.4.33.dev20240101"."""
    parts = []
    for piece in version.split("."):
        match = re.match(r"\d+", piece)
        if not match:
            break
        parts.append(int(match[0]))
        if match[0] != piece:
            break
    return tuple(parts)


def advise(facts: Facts) -> list[str]:
    """What is wrong with this runtime for the course, each with its fix; empty when all is well."""
    restart = " and restart the session (Runtime > Restart session)" if facts.on_colab else ""
    if facts.jax_version is None:
        return [f'JAX is not installed: run `pip install -U "jax>={facts.jax_floor}"`{restart}.']
    advice = []
    if facts.backend is None:
        advice.append(f"JAX {facts.jax_version} is installed but could not start a backend: run "
                      f'`pip install -U "jax>={facts.jax_floor}"`{restart}, then run this cell again.')
    if version_tuple(facts.jax_version) < version_tuple(facts.jax_floor):
        advice.append(f"JAX {facts.jax_version} is older than this course needs (jax>={facts.jax_floor}): "
                      f'run `pip install -U "jax>={facts.jax_floor}"`{restart}.')
    if facts.backend == "cpu" and facts.gpu_present:
        advice.append("a GPU is attached but JAX runs on the CPU: JAX's CUDA extras are missing; run "
                      f'`pip install -U "jax[cuda12]"`{restart}.')
    elif facts.backend == "cpu" and facts.tpu_present:
        advice.append("a TPU is attached but JAX runs on the CPU: JAX's TPU extras are missing; run "
                      f'`pip install -U "jax[tpu]"`{restart}.')
    return advice


def summary(facts: Facts) -> str:
    """One line: what was found."""
    if facts.jax_version is None:
        return "JAX: not installed"
    hardware = [name for name, present in (("GPU", facts.gpu_present), ("TPU", facts.tpu_present))
                if present]
    seen = f"; {' and '.join(hardware)} attached" if hardware else ""
    where = " (Colab)" if facts.on_colab else ""
    return f"JAX {facts.jax_version} on backend {facts.backend or 'unknown'}{seen}{where}"


def _gpu_present() -> bool:
    if os.path.exists("/dev/nvidia0"):
        return True
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return listed.returncode == 0 and "GPU" in listed.stdout


def _tpu_present() -> bool:
    return bool(os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME")
                or glob.glob("/dev/accel*"))


def gather_facts(config: Config | None = None) -> Facts:
    """The facts `advise` decides on (imports JAX and starts its backends)."""
    from jaxcourse import runtime

    config = config or read_config()
    version = runtime.package_version("jax")
    backend = None
    if version is not None:
        try:
            import jax

            version = jax.__version__
            backend = jax.default_backend()
        except Exception:  # a broken install is reported, not raised: this runs in every notebook
            backend = None
    return Facts(version, backend, _gpu_present(), _tpu_present(), runtime.on_colab(), config.jax_floor)


def check_runtime() -> None:
    """Print one line on JAX and its backend, and any fix the runtime needs. Never raises."""
    try:
        facts = gather_facts()
        advice = advise(facts)
    except Exception as err:  # this check must never stop a notebook
        print(f"runtime check skipped: {type(err).__name__}: {err}")
        return
    print(summary(facts) + (": ok" if not advice else ""))
    for line in advice:
        print(f"  fix: {line}")
