"""Colab: the course's repository address, "Open in Colab" links, and a check of the runtime.

The address lives in one place, `[tool.jaxcourse]` in pyproject.toml; `jaxcourse badges` stamps it
into every notebook's badge and set-up cell. `check_runtime()` is what that set-up cell calls: it
says in one line which JAX and backend it found, and what to install when they do not fit the
hardware (a GPU or TPU runtime whose JAX only has the CPU backend). It never raises.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

# used when no pyproject.toml is found (an installed, not editable, copy of the package)
DEFAULT_REPOSITORY = "https://github.com/jax-course/jax-from-first-principles"
DEFAULT_BRANCH = "main"
DEFAULT_JAX_FLOOR = "0.7"

COLAB = "https://colab.research.google.com"
BADGE_IMAGE = f"{COLAB}/assets/colab-badge.svg"
BADGE_ALT = "Open In Colab"
CLONE_DIR = "/content/jax-course"
SETUP_CELL_ID = "colab-setup"


@dataclass(frozen=True)
class Config:
    repository: str = DEFAULT_REPOSITORY
    branch: str = DEFAULT_BRANCH
    jax_floor: str = DEFAULT_JAX_FLOOR

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
    )


def colab_url(path: str, config: Config | None = None) -> str:
    """The Colab address that opens `path` (relative to the repository root) from GitHub."""
    config = config or read_config()
    path = Path(path).as_posix().lstrip("/")
    return f"{COLAB}/github/{config.owner_and_name}/blob/{config.branch}/{path}"


def badge(path: str, config: Config | None = None) -> str:
    """The markdown "Open in Colab" badge for `path`: one line."""
    return f"[![{BADGE_ALT}]({BADGE_IMAGE})]({colab_url(path, config)})"


def is_badge_line(line: str) -> bool:
    return line.startswith(f"[![{BADGE_ALT}]") or BADGE_IMAGE in line


def setup_source(config: Config | None = None, cpu_devices: int | None = None) -> str:
    """The set-up cell: on Colab, clone the course and install its helpers; then check JAX.

    Colab's own JAX matches its accelerator, so the cell installs the course package alone
    (`--no-deps`): jax, numpy, matplotlib and the rest are already there. `cpu_devices` (chapter
    07) asks for simulated CPU devices before `check_runtime` starts JAX's backends.
    """
    config = config or read_config()
    lines = [
        "# Set-up. On Colab: fetch the course helpers and data. Anywhere else: only check JAX.",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        "    import subprocess",
        "",
        f'    REPO, BRANCH = "{config.repository}", "{config.branch}"',
        f'    subprocess.run(["git", "clone", "-q", "--depth=1", "-b", BRANCH, REPO, "{CLONE_DIR}"])',
        "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"--no-deps\", "
        f'"-e", "{CLONE_DIR}"], check=True)',
        f'    sys.path.insert(0, "{CLONE_DIR}/src")',
        "",
    ]
    if cpu_devices:
        lines += [
            "from jaxcourse import colab, runtime",
            "",
            f"runtime.request_cpu_devices({cpu_devices})  # before check_runtime starts JAX's backends",
        ]
    else:
        lines += ["from jaxcourse import colab", ""]
    lines.append("colab.check_runtime()")
    return "\n".join(lines)


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


# --- stamping notebooks ---------------------------------------------------------------------------

_CPU_REQUEST = re.compile(r"request_cpu_devices\((\d+)\)")
_NBGRADER_LOCKED = {"grade": False, "grade_id": SETUP_CELL_ID, "locked": True, "schema_version": 3,
                    "solution": False, "task": False}


def opened_path(relative: str) -> str:
    """The repository path students open for a notebook: a solution's release in exercises/."""
    parts = Path(relative).parts
    if parts and parts[0] == "solutions":
        return Path("exercises", *parts[1:]).as_posix()
    return Path(relative).as_posix()


def _with_badge(source: str, line: str) -> str:
    lines = source.split("\n")
    if lines and is_badge_line(lines[0]):
        lines = lines[1:]
        while lines and not lines[0].strip():
            lines = lines[1:]
    return "\n".join([line, "", *lines])


def stamp(notebook, relative: str, config: Config | None = None) -> list[str]:
    """Stamp the badge and the set-up cell into `notebook` (in place); say what changed.

    `relative` is the notebook's path in the repository. The badge becomes the first line of the
    first markdown cell; the set-up cell (id `colab-setup`) is replaced where it is, or inserted
    before the first code cell. Every other cell is left as it is.
    """
    import nbformat

    config = config or read_config()
    changed = []
    cells = notebook.cells
    markdown = next((c for c in cells if c.cell_type == "markdown"), None)
    if markdown is None:
        raise ValueError(f"{relative}: no markdown cell to carry the badge")
    wanted = _with_badge(markdown.source, badge(opened_path(relative), config))
    if markdown.source != wanted:
        markdown.source = wanted
        changed.append("badge")

    existing = [i for i, c in enumerate(cells) if c.get("id") == SETUP_CELL_ID]
    # a notebook whose own set-up cell asks for simulated CPU devices (chapter 07) must ask before
    # check_runtime starts JAX's backends
    own_setup = next((c.source for c in cells if c.cell_type == "code" and c.get("id") != SETUP_CELL_ID), "")
    request = _CPU_REQUEST.search(own_setup)
    source = setup_source(config, int(request[1]) if request else None)
    metadata = {}
    if Path(relative).parts[0] == "solutions":
        metadata["nbgrader"] = dict(_NBGRADER_LOCKED)
    old = cells.pop(existing[0]) if existing else None
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    fits = (old is not None and old.cell_type == "code" and old.source == source
            and dict(old.metadata) == metadata)
    cells.insert(first_code, old if fits else
                 nbformat.v4.new_code_cell(source, metadata=metadata, id=SETUP_CELL_ID))
    if not fits or existing[0] != first_code:
        changed.append("set-up cell")
    return changed


def stamped_notebooks(root: Path) -> list[Path]:
    """Every notebook that carries a badge and a set-up cell: chapters and solutions."""
    return sorted([*root.glob("chapters/*.ipynb"), *root.glob("solutions/*/*.ipynb")])
