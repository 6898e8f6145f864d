"""`jaxcourse autograder`: an assignment's grader for the platform a class submits to, and what
runs inside it.

Built here (`build`): for Gradescope a zip (`setup.sh` builds the image: Python and every package
at the versions of this machine, the course at this commit; `run_autograder` grades one
submission); for PrairieLearn a Docker build folder (the public course helpers only) and a
question whose `tests/` hold the grader's private part. Inside the platform's container (`run`)
the grading is `jaxcourse grade` itself, for one submission: the same rebuilt notebook, kernels,
limits and feedback lines. `results.json` is written by the grader alone, after every process of
the student's is gone, from the gradebook and the feedback page (`platform_results`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform as python_platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict
from pathlib import Path

from jaxcourse.course import assignments
from jaxcourse.course.assignments import CourseError
from jaxcourse.grading.out.platform_results import PLATFORMS, VISIBILITY, Graded
from jaxcourse.grading.sandbox.settings import Limits, kernel_processes, kill_until_gone

# Where each platform puts things (Gradescope: "Autograder Specifications"; PrairieLearn:
# "External Grading"); the course's private part is the grader's (mode 700), the helpers public.
LAYOUT = {
    "gradescope": {"root": "/autograder", "submission": "submission", "course": "source/course",
                   "config": "source/autograder.json"},
    "prairielearn": {"root": "/grade", "submission": "student", "course": "tests/course", "config": "tests/autograder.json"},
}
RESULTS = "results/results.json"
PACKAGE_FILES = ("pyproject.toml", "LICENSE", "README.md")
PL_TIMEOUT = 600  # PrairieLearn's longest grading job, seconds
STUDENT = "student"
BUILD_TOOLS = {"pip", "setuptools", "wheel"}  # what every Python environment brings its own of: not pinned
UMASK = 0o026  # the grader's files: folders others may pass through, nothing others may read or list


def _pins() -> list[str]:
    """`name==version` for every package the course needs (not its dev tools), as installed here."""
    from importlib import metadata

    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins, todo = {}, [("jaxcourse", ())]
    while todo:
        name, extras = todo.pop()
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            marker_ok = requirement.marker is None or any(
                requirement.marker.evaluate({**default_environment(), "extra": e}) for e in (*extras, ""))
            key = canonicalize_name(requirement.name)
            if marker_ok and key not in pins:
                try:
                    version = metadata.version(requirement.name)
                    pins[key] = requirement.name if key in BUILD_TOOLS else f"{requirement.name}=={version}"
                except metadata.PackageNotFoundError:
                    continue  # optional on this platform and not installed
                todo.append((requirement.name, tuple(requirement.extras)))
    return sorted(pins.values(), key=str.lower)


def _built_from(root: Path) -> str:
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "src", "solutions", "tests",
                                "data"], capture_output=True, text=True).stdout.strip()
        return f"{commit}{' with uncommitted changes' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        from jaxcourse import __version__

        return f"jaxcourse {__version__} (not a git checkout)"


def _copy(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))


def _package(root: Path, target: Path) -> None:
    """The course helpers and their data: public, what every kernel imports."""
    target.mkdir(parents=True)
    for name in PACKAGE_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, target / name)
    _copy(root / "src" / "jaxcourse", target / "src" / "jaxcourse")
    if (root / "data").is_dir():
        _copy(root / "data", target / "data")


def _private(root: Path, assignment: str, target: Path) -> None:
    """What only the grader may read: the solution with its hidden tests, the kept mistakes."""
    target.mkdir(parents=True)
    shutil.copy2(root / assignments.CONFIG, target / assignments.CONFIG)
    _copy(root / assignments.SOURCE / assignment, target / assignments.SOURCE / assignment)
    if (root / assignments.MISTAKES / assignment).is_dir():
        _copy(root / assignments.MISTAKES / assignment, target / assignments.MISTAKES / assignment)


def _write(path: Path, text: str, executable: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755 if executable else 0o644)


TEMPLATES = Path(__file__).resolve().parent / "autograder_files"
WHERE = {  # template: where it goes in the artefact, and whether it runs
    "gradescope": {"setup.sh": ("setup.sh", True), "run_autograder": ("run_autograder", True)},
    "prairielearn": {"Dockerfile": ("image/Dockerfile", False), "run.sh": ("questions/{assignment}/tests/run.sh", True),
                     "info.json": ("questions/{assignment}/info.json", False),
                     "question.html": ("questions/{assignment}/question.html", False)},
}


def _fill(text: str, values: dict) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def files(platform: str, config: dict, pins: list[str], image: str) -> dict[str, tuple[str, bool]]:
    """{path in the artefact: (text, executable)}: the scripts from `autograder_files`, filled in."""
    import uuid

    values = {**config, "python_minor": ".".join(config["python"].split(".")[:2]), "image": image,
              "notebook": ",".join(config["notebooks"]), "timeout": PL_TIMEOUT,
              "uuid": uuid.uuid5(uuid.NAMESPACE_URL, f"jaxcourse/{config['assignment']}")}
    found = {_fill(where, values): (_fill((TEMPLATES / name).read_text(), values), runs)
             for name, (where, runs) in WHERE[platform].items()}
    requirements = "# the course's packages as installed where this grader was built\n" + "\n".join(pins) + "\n"
    config_text = json.dumps(config, indent=1) + "\n"
    if platform == "gradescope":
        found.update({"requirements.txt": (requirements, False), "autograder.json": (config_text, False)})
    else:
        found.update({"image/requirements.txt": (requirements, False),
                      f"questions/{config['assignment']}/tests/autograder.json": (config_text, False)})
    return found


def steps(platform: str, artefact: Path, config: dict, image: str) -> list[str]:
    if platform == "gradescope":
        return [f"1. On Gradescope, create a Programming Assignment for {config['assignment']} worth "
                f"{config['points']:g} points, with an autograder timeout of at least "
                f"{config['limits']['notebook_seconds'] / 60 + 2:.0f} minutes.",
                f"2. Configure Autograder: upload {artefact.name} (Ubuntu base image); the build grades the "
                "solution once and fails unless it scores full marks.",
                "3. Students submit their .ipynb; hidden checks show once you publish the grades "
                f"(visibility: {config['hidden']}).",
                "4. To regrade here: Review Grades > Export Submissions, then `jaxcourse grade "
                f"{config['assignment']} <export.zip>`."]
    return [f"1. docker build -t {image} {artefact}/image && docker push {image}",
            f"2. Copy {artefact}/questions/{config['assignment']} into your course's questions/ folder"
            + ("" if "YOUR_" not in image else " and put your image's name in its info.json"),
            "3. Add the question to an assessment; students upload the notebook and see their score "
            "and a line for each failed check when grading ends."]


def build(root: Path, assignment: str, platform: str, out: Path, *, hidden: str | None = None,
          limits: Limits | None = None, image: str | None = None) -> tuple[Path, list[str]]:
    """The artefact for `platform` in `out`, and the steps that put it on the platform."""
    assignments.assignment_folder(root, assignment)
    if platform not in PLATFORMS:
        raise CourseError(f"--for {platform!r}: one of {', '.join(PLATFORMS)}")
    hidden = hidden or ("after_published" if platform == "gradescope" else "visible")
    if hidden not in VISIBILITY:
        raise CourseError(f"--hidden {hidden!r}: one of {', '.join(VISIBILITY)}")
    limits = limits or Limits(notebook_seconds=480)
    if platform == "prairielearn" and limits.notebook_seconds > PL_TIMEOUT - 60:
        raise CourseError(f"--notebook-timeout {limits.notebook_seconds:g}: PrairieLearn stops a grading job at "
                          f"{PL_TIMEOUT} s; leave a minute for starting and writing the results (at most "
                          f"{PL_TIMEOUT - 60})")
    python = python_platform.python_version()
    built_from = _built_from(root)
    image = image or f"YOUR_DOCKERHUB_USER/jaxcourse-grader:{built_from[:12]}"
    config = {"assignment": assignment, "platform": platform, "built_from": built_from, "python": python,
              "hidden": hidden, "limits": asdict(limits), "points": sum(t.points for t in assignments.tasks(root, assignment)),
              "notebooks": sorted(p.name for p in (root / assignments.SOURCE / assignment).glob("*.ipynb"))}
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="jaxcourse-autograder-", dir=out))
    try:
        texts = files(platform, config, _pins(), image)
        if platform == "gradescope":
            _package(root, staging / "jaxcourse")
            _private(root, assignment, staging / "course")
            for name, (text, executable) in texts.items():
                _write(staging / name, text, executable)
            artefact = out / f"{assignment}-gradescope.zip"
            with zipfile.ZipFile(artefact, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(staging.rglob("*")):
                    if path.is_file():
                        info = zipfile.ZipInfo.from_file(path, path.relative_to(staging).as_posix())
                        info.compress_type = zipfile.ZIP_DEFLATED
                        archive.writestr(info, path.read_bytes())
        else:
            artefact = out / f"{assignment}-prairielearn"
            shutil.rmtree(artefact, ignore_errors=True)
            _package(root, staging / "image" / "jaxcourse")
            _private(root, assignment, staging / "questions" / assignment / "tests" / "course")
            for name, (text, executable) in texts.items():
                _write(staging / name, text, executable)
            staging.rename(artefact)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return artefact, steps(platform, artefact, config, image)


# --- inside the platform's container --------------------------------------------------------------


def _kill_leftovers(isolation: str) -> None:
    """Every process a kernel's user still has: what student code left running (a detached one too)."""
    if isolation == "user":
        kill_until_gone(kernel_processes)


def _not_this_assignment(submission: Path, source_ids: set[str]) -> str:
    """Why the submitted notebooks are not this assignment's, or "" (they are, or cannot be read:
    the grader says which)."""
    from jaxcourse.grading.intake import submissions
    from jaxcourse.grading.intake.downloads import MAX_FILE_BYTES

    readable = []
    for path in sorted(submission.rglob("*.ipynb")):
        if path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
            notebook, _ = submissions.read_notebook(path.read_bytes())
            if notebook is not None:
                readable.append(notebook)
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for n in readable for c in n.cells}
    if readable and not ids & source_ids:
        return ("this is not the notebook of this assignment: none of its graded cells are in it "
                "(was another assignment's notebook submitted?)")
    return ""


def grade_here(platform: str, course: Path, submission: Path, config: dict) -> tuple[Graded, str, list[str]]:
    """One submission graded by `jaxcourse grade`: (what it got, the isolation, notes for the
    instructor)."""
    import nbformat

    from jaxcourse.grading import pipeline
    from jaxcourse.grading.out import platform_results
    from jaxcourse.grading.sandbox.settings import ENFORCEMENT_GAP

    assignment = config["assignment"]
    sources = {name: nbformat.read(course / assignments.SOURCE / assignment / name, as_version=4)
               for name in config["notebooks"]}
    tasks = assignments.tasks(course, assignment)
    max_score = sum(t.points for t in tasks)
    source_ids = {t.grade_id for t in tasks} | {test for t in tasks for test in t.tests}
    problem = _not_this_assignment(submission, source_ids)
    if problem:
        return Graded(assignment, 0.0, max_score, problem=problem, unreadable=True), "not run", []
    with tempfile.TemporaryDirectory(prefix="jaxcourse-submission-") as folder:
        shutil.copytree(submission, Path(folder) / STUDENT, symlinks=True)
        try:
            report = pipeline.grade(course, assignment, Path(folder), course=course / "grading", workers=1,
                                    force=True, limits=Limits(**config["limits"]), progress=False, feedback=False,
                                    cache=platform == "gradescope")
        except CourseError as err:
            return Graded(assignment, 0.0, max_score, problem=str(err).split(": nothing graded")[0].split(": ", 1)[-1],
                          unreadable=True), "not run", []
    record = report.students[STUDENT]
    pages = course / "grading" / "autograded" / STUDENT / assignment
    entries = []
    for name, source in sources.items():
        page = nbformat.read(pages / name, as_version=4) if (pages / name).is_file() else None
        entries += platform_results.entries(source, page, record.cells)
    gaps = [n for n in record.notes if ENFORCEMENT_GAP.fullmatch(n)]
    notes = [n for n in record.notes if n not in gaps]
    graded = Graded(assignment, float(record.score), float(report.max_score), entries, notes,
                    problem=record.zero_reason, unreadable=bool(record.zero_reason), seconds=report.seconds)
    return graded, report.isolation, [*gaps, *report.warnings]


def run(platform: str, top: Path | None = None) -> int:
    """Grade the platform's one submission into its results.json; always writes one."""
    from jaxcourse.grading.out import platform_results

    start = time.monotonic()
    layout = LAYOUT[platform]
    top = Path(top or layout["root"])
    results = top / RESULTS
    os.umask(UMASK)
    results.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(results.parent, 0o755)
    results.unlink(missing_ok=True)
    config = json.loads((top / layout["config"]).read_text())
    isolation, instructor = "not run", []
    try:
        graded, isolation, instructor = grade_here(platform, top / layout["course"], top / layout["submission"],
                                                   config)
    except Exception as err:  # the grader's own failure: a result that says so, never none
        graded = Graded(config["assignment"], 0.0, 0.0, problem=f"the grader failed ({err.__class__.__name__}: "
                        f"{str(err)[:300]}); tell your instructor")
    finally:
        _kill_leftovers(isolation)
    graded.seconds = time.monotonic() - start
    shaped = (platform_results.gradescope(graded, config["hidden"]) if platform == "gradescope"
              else platform_results.prairielearn(graded, config["hidden"]))
    shaped.setdefault("extra_data" if platform == "gradescope" else "jaxcourse", {}).update(
        {"assignment": config["assignment"], "built_from": config["built_from"], "isolation": isolation,
         "seconds": round(graded.seconds, 1)})
    partial = results.with_name(f".{results.name}.partial")
    partial.write_text(json.dumps(shaped, indent=1))
    os.chmod(partial, 0o644)
    os.replace(partial, results)
    print(f"{config['assignment']}: {graded.score:g} of {graded.max_score:g} points in {graded.seconds:.1f} s; "
          f"isolation: {isolation} ({ISOLATION.get(isolation, 'nothing of the student ran')})")
    for line in [*instructor, *([f"problem: {graded.problem}"] if graded.problem else [])]:
        print(f"  {line}")
    print(f"  results: {results}")
    return 0


ISOLATION = {
    "namespaces": "each kernel in its own namespaces and root, as nobody, without network",
    "user": "each kernel a process of a user of its own: it could not signal the grader or another kernel, "
            "write results.json or the course, or read the solution and hidden tests; it could reach the "
            "network and read what any user may, and its memory was capped only where a cgroup could be made",
    "process": "WARNING: kernels ran as the grader's own user (not root): student code could have "
               "changed results.json or the grader; grade as root",
}


def prepare(platform: str, top: Path | None = None) -> int:
    """At the image's build: grade the solution once, so that the course is set up and the
    compilation cache filled; it must score full marks here."""
    layout = LAYOUT[platform]
    top = Path(top or layout["root"])
    config = json.loads((top / layout["config"]).read_text())
    os.umask(UMASK)
    course = top / layout["course"]
    solved = Path(tempfile.mkdtemp(prefix="jaxcourse-solution-"))
    try:
        for name in config["notebooks"]:
            shutil.copy2(course / assignments.SOURCE / config["assignment"] / name, solved / name)
        graded, isolation, notes = grade_here(platform, course, solved, config)
    finally:
        shutil.rmtree(solved, ignore_errors=True)
    print(f"the solution scored {graded.score:g} of {graded.max_score:g} in this image (isolation: {isolation})")
    for line in notes:
        print(f"  {line}")
    return 0 if graded.max_score and graded.score == graded.max_score else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jaxcourse.grading.autograder",
                                     description="Inside a platform's container: grade its submission.")
    parser.add_argument("step", choices=("run", "prepare"))
    parser.add_argument("platform", choices=PLATFORMS)
    args = parser.parse_args(argv)
    return (run if args.step == "run" else prepare)(args.platform)


if __name__ == "__main__":
    sys.exit(main())
