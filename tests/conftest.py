import contextlib
import fcntl
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Kernels ("python3") and nbgrader's alembic are found through PATH: use this environment's.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
# the grading tests' shared builders (hostile_cases, lms_files), for the tests of every stage's folder
sys.path.insert(0, str(ROOT / "tests" / "grading"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@contextlib.contextmanager
def built_once(tmp_path_factory, name: str):
    """A folder that one pytest-xdist worker fills and every worker reads: yields (folder, build),
    `build` True for the one that must fill it (the others wait for it)."""
    # under pytest-xdist each worker has its own base folder: share their parent; alone, this
    # session's own (the parent would hold folders from earlier sessions)
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    folder = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = folder / ".built"
        build = not done.exists()
        if build:
            folder.mkdir(exist_ok=True)
        yield folder, build
        if build:
            done.touch()


def first_check(notebook, grade_id: str = "test-01-forward") -> str:
    """The first `expect_...` line of a visible test cell: what a failing run shows of it."""
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return next(line for line in cell.source.splitlines() if line.startswith("expect_"))
