"""Generating the students' release (exercises/) from the source (solutions/) with nbgrader, and
checking that the committed release has not drifted."""

from __future__ import annotations

import filecmp
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jaxcourse.course.assignments import (
    CONFIG,
    RELEASE,
    SOURCE,
    CourseError,
    assignment_folder,
    assignment_names,
)


def nbgrader_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    # nbgrader shells out to alembic, and kernels are found through PATH: put this Python's bin first.
    env = {**os.environ, **(extra or {})}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def nbgrader(args: list[str], course: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run one nbgrader command in the course folder `course`; raise CourseError on failure.

    `env` adds variables for nbgrader and the kernels it starts (XLA_FLAGS, for one).
    """
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=nbgrader_env(env),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise CourseError(f"nbgrader {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def alembic_head() -> str:
    """What nbgrader's `get_alembic_version` answers, read from nbgrader's own migration scripts in
    this process: nbgrader asks a subprocess (`alembic heads`, 1.5-5 s of imports) for every new
    gradebook."""
    import nbgrader
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(nbgrader.__file__).parent / "alembic")).get_current_head()


def new_gradebooks_in_process() -> None:
    """Let nbgrader create gradebooks in this process without its `alembic heads` subprocess."""
    import nbgrader.api

    if not getattr(nbgrader.api.get_alembic_version, "in_process", False):
        head = functools.cache(alembic_head)
        head.in_process = True
        nbgrader.api.get_alembic_version = head


def nbgrader_api(course: Path):
    """nbgrader's own API on the course folder `course`, in this process: `python -m nbgrader`
    spends ~2.7 s of CPU importing before it does anything."""
    from nbgrader.apps import NbGraderAPI

    new_gradebooks_in_process()
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    return NbGraderAPI(config=config)


def succeeded(result: dict, what: str) -> None:
    """Raise CourseError unless an nbgrader API call succeeded."""
    if not result.get("success"):
        raise CourseError(f"nbgrader {what} failed:\n{(result.get('error') or result.get('log') or '')[-3000:]}")


def _scratch_course(root: Path, name: str, parent: Path) -> Path:
    """A throwaway course holding only the config and one assignment's source."""
    course = parent / "course"
    (course / SOURCE).mkdir(parents=True)
    shutil.copy2(root / CONFIG, course / CONFIG)
    shutil.copytree(assignment_folder(root, name), course / SOURCE / name,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return course


STUDENT_CONFIG = """\
# `nbgrader validate <notebook>` in this folder reads this file. It sets nothing: without it,
# nbgrader starts by warning that it found no configuration, which is not a problem of yours.
"""


def generate(root: Path, name: str, parent: Path) -> Path:
    """Generate assignment `name` in a scratch course under `parent`; return that course."""
    course = _scratch_course(root, name, parent)
    succeeded(nbgrader_api(course).generate_assignment(name, force=True), "generate_assignment")
    (course / RELEASE / name / CONFIG).write_text(STUDENT_CONFIG)
    return course


def release(root: Path, names: list[str] | None = None) -> list[Path]:
    """Regenerate exercises/<name> from solutions/<name> for each assignment."""
    written = []
    for name in names or assignment_names(root):
        with tempfile.TemporaryDirectory() as tmp:
            course = generate(root, name, Path(tmp))
            target = root / RELEASE / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(course / RELEASE / name, target)
            written.append(target)
    return written


def _differences(expected: Path, actual: Path, prefix: str) -> list[str]:
    found = []
    cmp = filecmp.dircmp(expected, actual)
    found += [f"{prefix}{n}: missing from the committed release" for n in cmp.left_only]
    found += [f"{prefix}{n}: in the committed release but not generated" for n in cmp.right_only]
    for n in cmp.common_files:
        if (expected / n).read_bytes() != (actual / n).read_bytes():
            found.append(f"{prefix}{n}: differs from what {SOURCE}/ generates")
    for n in cmp.common_dirs:
        found += _differences(expected / n, actual / n, f"{prefix}{n}/")
    return found


def release_drift(root: Path, name: str, course: Path) -> list[str]:
    """How the committed exercises/<name> differs from the release generated in `course`."""
    committed = root / RELEASE / name
    if not committed.is_dir():
        return [f"{RELEASE}/{name}: not generated (run `jaxcourse release`)"]
    return _differences(course / RELEASE / name, committed, f"{RELEASE}/{name}/")


def stray_releases(root: Path) -> list[str]:
    """Folders in exercises/ that no assignment in solutions/ generates."""
    strays = {p.name for p in (root / RELEASE).iterdir() if p.is_dir()} - set(assignment_names(root))
    return [f"{RELEASE}/{n}: has no source in {SOURCE}/" for n in sorted(strays)]


def release_differences(root: Path, names: list[str] | None = None) -> list[str]:
    """What differs between the committed exercises/ and a fresh release from solutions/."""
    found = []
    for name in names or assignment_names(root):
        with tempfile.TemporaryDirectory() as tmp:
            found += release_drift(root, name, generate(root, name, Path(tmp)))
    return found + stray_releases(root)
