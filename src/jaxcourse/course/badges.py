"""`jaxcourse badges`: the "Open in Colab" badge and the set-up cell, stamped into every notebook
from the one address in `[tool.jaxcourse]` of pyproject.toml."""

from __future__ import annotations

import re
from pathlib import Path

from jaxcourse.colab import Config, read_config

COLAB = "https://colab.research.google.com"
BADGE_IMAGE = f"{COLAB}/assets/colab-badge.svg"
BADGE_ALT = "Open In Colab"
CLONE_DIR = "/content/jax-course"
SETUP_CELL_ID = "colab-setup"


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


# Libraries some notebooks import that a Colab runtime may lack, or hold in a release too old for
# the course: top-level module -> distribution name in pyproject's dependencies.
COLAB_EXTRAS = {"flax": "flax", "optax": "optax", "orbax": "orbax-checkpoint"}
_IMPORT = re.compile(r"^\s*(?:import|from)\s+(\w+)", re.M)


def pinned(distribution: str, config: Config) -> str:
    """pyproject's requirement for `distribution` ("flax>=0.12,<0.13"), else its bare name."""
    for requirement in config.requirements:
        name = re.match(r"\s*([A-Za-z0-9_.-]+)", requirement)
        if name and name[1].lower().replace("_", "-") == distribution:
            return requirement.split(";")[0].strip()
    return distribution


def extras_needed(notebook) -> list[str]:
    """The distributions of COLAB_EXTRAS that `notebook`'s code cells import, in a stable order."""
    modules = {m for cell in notebook.cells if cell.cell_type == "code"
               for m in _IMPORT.findall(cell.source)}
    return [dist for module, dist in COLAB_EXTRAS.items() if module in modules]


def setup_source(config: Config | None = None, cpu_devices: int | None = None,
                 extras: list[str] | tuple[str, ...] = ()) -> str:
    """The set-up cell: on Colab, clone the course and install its helpers; then check JAX.

    Colab's own JAX matches its accelerator, so the cell installs the course package alone
    (`--no-deps`): jax, numpy, matplotlib and the rest are already there. `extras` (chapter 09's
    flax, optax, orbax-checkpoint) are installed with pyproject's version ranges; pip leaves alone
    what Colab already has in range. `cpu_devices` (chapter 07) asks for simulated CPU devices
    before `check_runtime` starts JAX's backends.
    """
    config = config or read_config()
    install_extras = []
    if extras:
        wanted = ", ".join(f'"{pinned(dist, config)}"' for dist in extras)
        install_extras = [
            "    # libraries this notebook uses: installed only where missing or out of range",
            f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", {wanted}], check=True)',
        ]
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
        *install_extras,
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
    source = setup_source(config, int(request[1]) if request else None, extras_needed(notebook))
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


def restamp(root: Path, config: Config, write: bool) -> list[tuple[str, list[str]]]:
    """(notebook, what was missing or stale) for every stamped notebook that needed it; with
    `write`, the notebooks are stamped too."""
    import nbformat

    stale = []
    for path in stamped_notebooks(root):
        relative = path.relative_to(root).as_posix()
        notebook = nbformat.read(path, as_version=4)
        changed = stamp(notebook, relative, config)
        if changed:
            stale.append((relative, changed))
            if write:
                nbformat.write(notebook, path)
    return stale


def command(root: Path, check: bool) -> tuple[list[str], bool]:
    """`jaxcourse badges [--check]`: what to print, and whether the check failed."""
    from jaxcourse import colab

    config = colab.read_config(root / "pyproject.toml")
    stale = restamp(root, config, write=not check)
    if check:
        said = [f"{relative}: {' and '.join(changed)} missing or stale" for relative, changed in stale]
        if stale:
            return [*said, "run `jaxcourse badges`, then `jaxcourse release`"], True
        return [f"badges and set-up cells point at {config.repository} ({config.branch})"], False
    said = [f"stamped {relative} ({', '.join(changed)})" for relative, changed in stale]
    return said + (["now run `jaxcourse release` so that exercises/ carry them too"] if stale else []), False
