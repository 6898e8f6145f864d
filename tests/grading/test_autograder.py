"""The graders `jaxcourse autograder` builds, run as each platform runs them.

A platform's container is emulated here: a fresh mount and PID namespace where the artefact's
folder is mounted at `/autograder` (Gradescope) or `/grade` (PrairieLearn), and where the grader
runs as root without CAP_SYS_ADMIN, as in Docker: it cannot make namespaces, so student code runs
as a user of its own. Gradescope's `setup.sh` runs for real, offline: its Python environment is one whose
packages are this one's (what `pip install -r requirements.txt` would have put there), so pip finds
every pin already satisfied. Each submission then gets a fresh copy of the built image.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest

from jaxcourse.course import assignments
from jaxcourse.grading import autograder, pipeline
from jaxcourse.grading.intake.submissions import split_hidden
from jaxcourse.grading.out.platform_results import VISIBILITY
from jaxcourse.grading.sandbox.settings import Limits

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT, NOTEBOOK, FULL = "01_xor", "01_xor.ipynb", 12.0
MISTAKE = "loss_sigmoid_then_log"  # task-02-loss, 2 points
# 01_xor's slowest cell takes under a second; the endless loop spins for the whole limit, three times
LIMITS = Limits(cell_seconds=10, notebook_seconds=240, memory_bytes=3 * 2**30)
PRIVILEGED = [] if os.geteuid() == 0 else ["sudo", "-n"]  # GitHub's runner: passwordless sudo
FORGED = 987654.0
ATTACK = f'''
import json, os, signal, subprocess, sys
for path in ("/autograder/results/results.json", "/grade/results/results.json"):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as forged:
            json.dump({{"score": {FORGED}, "gradable": True, "tests": []}}, forged)
        print("WROTE", path)
    except OSError as err:
        print("refused", path, err.strerror)
for pid in [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    try:
        os.kill(pid, signal.SIGSTOP)
        print("STOPPED", pid)
    except OSError:
        pass
lurker = "import json, time\\nfor _ in range(600):\\n    time.sleep(0.1)\\n    try:\\n        " \\
         "open('/autograder/results/results.json', 'w').write(json.dumps({{'score': {FORGED}}}))\\n    except OSError:\\n        pass"
subprocess.Popen([sys.executable, "-c", lurker], start_new_session=True)
print("attack done")
'''


def _python() -> str:
    """A Python that `nobody` can run (this one may live in root's home), of this one's version."""
    minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/{minor}", f"/usr/local/bin/{minor}", sys.executable):
        if Path(candidate).is_file():
            return candidate
    pytest.fail(f"no {minor} to build the platform's Python environment from")


def _environment(where: Path, package: Path | None = None) -> Path:
    """A virtual environment that sees this one's packages (what pip would have installed), and,
    for PrairieLearn's image, the artefact's course helpers as its Dockerfile installs them."""
    subprocess.run([_python(), "-m", "venv", str(where)], check=True)
    site = Path(subprocess.run([str(where / "bin" / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    shared = sysconfig.get_paths()["purelib"]
    (site / "zz-this-environment.pth").write_text(f"import site; site.addsitedir({shared!r})\n")
    if package is not None:
        (site / "jaxcourse.pth").write_text(f"{package / 'src'}\n")
    return where


def _in_container(top: Path, mountpoint: str, command: list[str], env: dict, timeout: float = 600):
    """`command` as the platform runs it: `top` at `mountpoint`, a PID namespace of its own, root
    without CAP_SYS_ADMIN."""
    created = not Path(mountpoint).exists()
    # its own temporary folder and no writable cgroups, as in Docker: the grader's sweep of what
    # dead runs left must see only this container's
    script = (f'mkdir -p {mountpoint} && mount --bind "$0" {mountpoint} && '
              'mount -t tmpfs -o ro,size=1m none /sys/fs/cgroup && '
              f'mkdir -p {mountpoint}/tmp && chmod 1777 {mountpoint}/tmp && cd {mountpoint} && '
              f'TMPDIR={mountpoint}/tmp exec setpriv --bounding-set=-sys_admin -- "$@"')
    try:
        return subprocess.run([*PRIVILEGED, "unshare", "--mount", "--pid", "--fork", "--mount-proc",
                               "--propagation", "private", "bash", "-c", script, str(top), *command],
                              capture_output=True, text=True, timeout=timeout, env=env)
    finally:
        if created:
            subprocess.run([*PRIVILEGED, "rmdir", mountpoint], capture_output=True)


def _env(venv: Path) -> dict:
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "HOME", "TMPDIR")}
    return {**keep, "PATH": f"{venv}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "PIP_NO_INDEX": "1", "JAXCOURSE_MNIST_SOURCE": "bundled"}


def _cases() -> dict[str, bytes]:
    solved = assignments.solved_assignment(ROOT, ASSIGNMENT)
    mistake = next(m for m in assignments.mistakes(ROOT, ASSIGNMENT) if m.path.stem == MISTAKE)
    released = nbformat.read(ROOT / assignments.RELEASE / ASSIGNMENT / NOTEBOOK, as_version=4)
    looping = assignments.with_answer(solved[NOTEBOOK], "task-06-ensemble",
                                      "while True:\n    pass\n" + assignments.solution_code(
                                          next(c for c in nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK,
                                                                        as_version=4).cells
                                               if c.metadata.get("nbgrader", {}).get("grade_id") == "task-06-ensemble").source))
    # the untouched release with an attack in its first task: it scores zero as the release does
    hostile = assignments.with_answer(released, "task-01-forward", ATTACK)
    return {
        "solution": nbformat.writes(solved[NOTEBOOK]).encode(),
        "mistake": nbformat.writes(assignments.with_mistake(ROOT, ASSIGNMENT, solved, mistake)[NOTEBOOK]).encode(),
        "not-json": b"{ this is not a notebook",
        "other-assignment": (ROOT / assignments.RELEASE / "05_jit" / "05_jit.ipynb").read_bytes(),
        "infinite-loop": nbformat.writes(looping).encode(),
        "hostile": nbformat.writes(hostile).encode(),
    }


pytestmark = pytest.mark.xdist_group("platforms")  # one worker: the class graded once for both
EXPECTED = {"solution": FULL, "mistake": FULL - 2, "not-json": 0.0, "other-assignment": 0.0,
            "infinite-loop": FULL - 3, "hostile": 0.0}


@pytest.fixture(scope="module")
def cases() -> dict[str, bytes]:
    return _cases()


def gradescope_export(cases: dict[str, bytes], path: Path) -> Path:
    """Gradescope's "Export Submissions" zip of these cases: a folder a submission, and its
    submitters in `submission_metadata.yml`; the kept mistake is a group's (two submitters)."""
    metadata = []
    with zipfile.ZipFile(path, "w") as archive:
        for number, (name, data) in enumerate(cases.items(), start=101):
            folder = f"assignment_4242_export/submission_{number}"
            archive.writestr(f"{folder}/{NOTEBOOK}", data)
            people = [(name, f"{name.title()} Student")] + ([("partner", "Pat Partner")] if name == "mistake" else [])
            metadata.append(f"submission_{number}:\n  :submitters:\n" + "".join(
                f"  - :name: {who}\n    :sid: '{sid}'\n    :email: {sid}@example.edu\n" for sid, who in people)
                + f"  :created_at: 2024-01-3{number % 2} 23:5{number % 10}:00.000000000 -08:00\n"
                + "  :score: !ruby/object:BigDecimal 18:0.0\n  :status: processed\n")
        archive.writestr("assignment_4242_export/submission_metadata.yml", "".join(metadata))
    return path


@pytest.fixture(scope="module")
def graded_here(cases, tmp_path_factory) -> dict[str, float]:
    """What `jaxcourse grade` gives each case's notebook, read from a Gradescope export of them
    all: the platforms must give the same."""
    folder = tmp_path_factory.mktemp("class")
    export = gradescope_export(cases, folder / "export.zip")
    report = pipeline.grade(ROOT, ASSIGNMENT, export, course=folder / "course", workers=2,
                            progress=False, limits=LIMITS, feedback=False)
    assert set(report.students) == {*cases, "partner"}, "each submitter under their Gradescope student id"
    assert report.students["partner"].score == report.students["mistake"].score
    assert report.students["partner"].name == "Pat Partner"
    number = 101 + list(cases).index("mistake")  # as `gradescope_export` numbers and dates them
    pacific = datetime(2024, 1, 30 + number % 2, 23, 50 + number % 10, tzinfo=timezone(timedelta(hours=-8)))
    local = pacific.astimezone().replace(tzinfo=None).isoformat(timespec="minutes")
    assert report.students["mistake"].submitted_at == local, "the export's time, made local"
    return {name: record.score for name, record in report.students.items()}


def check_gradescope_schema(results: dict) -> None:
    """Gradescope's "Autograder Specifications" (results.json)."""
    top = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
           "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
    assert set(results) <= top, f"keys Gradescope does not read: {set(results) - top}"
    assert isinstance(results["score"], float)
    assert results["visibility"] in VISIBILITY and results["stdout_visibility"] in VISIBILITY
    for test in results["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number", "output",
                             "output_format", "tags", "visibility", "extra_data"}, test
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITY
        assert ("score" in test) == ("max_score" in test)
    assert sum(t.get("score", 0) for t in results["tests"]) == pytest.approx(results["score"])


def check_prairielearn_schema(results: dict, max_score: float) -> None:
    """PrairieLearn's "External Grading", grading results."""
    assert set(results) <= {"gradable", "score", "message", "output", "images", "tests", "format_errors", "jaxcourse"}
    assert isinstance(results["gradable"], bool) and 0.0 <= results["score"] <= 1.0
    if not results["gradable"]:
        assert results["format_errors"] and all(isinstance(e, str) for e in results["format_errors"])
        return
    for test in results["tests"]:
        assert set(test) <= {"name", "description", "points", "max_points", "message", "output", "images"}
        assert 0 <= test["points"] <= test["max_points"]
    points = sum(t["points"] for t in results["tests"])
    assert points / max_score == pytest.approx(results["score"])


def _run_cases(image: Path, mountpoint: str, submission: str, runner: list[str], env: dict, cases: dict,
               workdir: Path) -> dict[str, tuple[dict, str, Path]]:
    """Each case in a fresh copy of the image: (its results.json, the grader's stdout, the copy)."""
    found = {}
    workdir.mkdir(parents=True, exist_ok=True)
    for name, data in cases.items():
        top = workdir / name
        subprocess.run([*PRIVILEGED, "cp", "-a", str(image), str(top)], check=True)
        subprocess.run([*PRIVILEGED, "mkdir", "-p", str(top / submission)], check=True)
        subprocess.run([*PRIVILEGED, "tee", str(top / submission / NOTEBOOK)], input=data, check=True,
                       capture_output=True)
        done = _in_container(top, mountpoint, runner, env)
        assert done.returncode == 0, f"{name}: the grader exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        results = json.loads(subprocess.run([*PRIVILEGED, "cat", str(top / "results" / "results.json")],
                                            check=True, capture_output=True, text=True).stdout)
        found[name] = (results, done.stdout, top)
    return found


def _attack_ran(top: Path, course: str) -> str:
    """What the hostile cell printed, from the feedback page the grader kept."""
    page = top / course / "grading" / "autograded" / "student" / ASSIGNMENT / NOTEBOOK
    notebook = nbformat.reads(subprocess.run([*PRIVILEGED, "cat", str(page)], capture_output=True, text=True).stdout,
                              as_version=4)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "task-01-forward")
    return "".join(str(o.get("text", "")) for o in cell.outputs)


def _check_cases(found: dict, graded_here: dict, score_of, course: str) -> None:
    for name, (results, stdout, _) in found.items():
        assert score_of(results) == pytest.approx(EXPECTED[name]), f"{name}: {results}\n{stdout}"
        assert score_of(results) == pytest.approx(graded_here[name]), f"{name}: `jaxcourse grade` differs"
        if name not in ("not-json", "other-assignment"):
            assert "isolation: user" in stdout, stdout
    text = {name: json.dumps(results) for name, (results, _, _) in found.items()}
    mistake = next(m for m in assignments.mistakes(ROOT, ASSIGNMENT) if m.path.stem == MISTAKE)
    assert mistake.why in text["mistake"], "the kept mistake's `why` is named"
    assert "not a notebook" in text["not-json"] or "not valid" in text["not-json"] or "JSON" in text["not-json"]
    assert "not the notebook of this assignment" in text["other-assignment"]
    assert f"still running after {LIMITS.cell_seconds:g} s" in text["infinite-loop"], "the time limit, said"
    assert str(FORGED) not in text["hostile"] and "987654" not in text["hostile"]
    page = _attack_ran(found["hostile"][2], course)
    assert "attack done" in page and "refused /" in page and "WROTE" not in page, "the attack ran and was refused"
    assert "STOPPED" not in page, "a kernel cannot signal the grader or another kernel"


@pytest.mark.slow
def test_gradescope_autograder_grades_like_jaxcourse_grade(cases, graded_here, tmp_path):
    artefact, steps = autograder.build(ROOT, ASSIGNMENT, "gradescope", tmp_path / "built", limits=LIMITS)
    assert artefact.suffix == ".zip" and any("Export Submissions" in s for s in steps)
    image = tmp_path / "image"
    with zipfile.ZipFile(artefact) as archive:
        assert {"setup.sh", "run_autograder", "requirements.txt"} <= set(archive.namelist())
        archive.extractall(image / "source")
    for script in ("setup.sh", "run_autograder"):
        (image / "source" / script).chmod(0o755)
    shutil.copy2(image / "source" / "run_autograder", image / "run_autograder")
    env = _env(_environment(image / "venv"))
    built = _in_container(image, "/autograder", ["bash", "/autograder/source/setup.sh"], env)
    assert built.returncode == 0, f"setup.sh failed:\n{built.stdout}\n{built.stderr}"
    assert "the solution scored 12 of 12" in built.stdout, built.stdout
    found = _run_cases(image, "/autograder", "submission", ["/autograder/run_autograder"], env, cases,
                       tmp_path / "runs")
    for results, _, _ in found.values():
        check_gradescope_schema(results)
    _check_cases(found, graded_here, lambda r: r["score"], "source/course")
    mistake = found["mistake"][0]["tests"]
    hidden = [t for t in mistake if t["visibility"] == "after_published"]
    assert hidden and all("score" in t for t in hidden), "hidden checks carry the points, shown once published"
    assert [t for t in mistake if t["name"].startswith("Task 2") and t["status"] == "failed"]
    seconds = {name: r["execution_time"] for name, (r, _, _) in found.items()}
    print(f"gradescope, from start to results.json: {seconds}")


@pytest.mark.slow
def test_prairielearn_grader_grades_like_jaxcourse_grade(cases, graded_here, tmp_path, request):
    artefact, _ = autograder.build(ROOT, ASSIGNMENT, "prairielearn", tmp_path / "built", limits=LIMITS,
                                   image="course/jaxcourse-grader:test")
    question = artefact / "questions" / ASSIGNMENT
    info = json.loads((question / "info.json").read_text())
    assert info["externalGradingOptions"]["entrypoint"] == "/grade/tests/run.sh"
    assert info["externalGradingOptions"]["image"] == "course/jaxcourse-grader:test"
    public = "".join(p.read_text(errors="replace") for p in (artefact / "image").rglob("*") if p.is_file())
    source = nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    secrets = [assignments.solution_code(c.source).strip() for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")]
    secrets += [split_hidden(c.source)[1].strip() for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert not [s for s in secrets if s and s in public], "the image is public: no solution, no hidden test in it"
    image = tmp_path / "image"
    (image / "tests").parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(question / "tests", image / "tests")
    image_root = Path(tempfile.mkdtemp(prefix="jaxcourse-pl-image-"))  # where `nobody` can read it, as in the image
    image_root.chmod(0o755)
    request.addfinalizer(lambda: shutil.rmtree(image_root, ignore_errors=True))
    shutil.copytree(artefact / "image" / "jaxcourse", image_root / "jaxcourse")
    env = _env(_environment(image_root / "venv", package=image_root / "jaxcourse"))
    max_score = sum(t.points for t in assignments.tasks(ROOT, ASSIGNMENT))
    found = _run_cases(image, "/grade", "student", ["/grade/tests/run.sh"], env, cases, tmp_path / "runs")
    for results, _, _ in found.values():
        check_prairielearn_schema(results, max_score)
    _check_cases(found, graded_here, lambda r: r["score"] * max_score, "tests/course")
    assert not found["not-json"][0]["gradable"] and not found["other-assignment"][0]["gradable"]
    print(f"prairielearn, from start to results.json: { {n: r['jaxcourse']['seconds'] for n, (r, _, _) in found.items()} }")
