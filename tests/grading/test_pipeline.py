"""`jaxcourse grade` end to end: the hostile class, re-runs, regrading one student, feedback."""

from __future__ import annotations

import csv
import hashlib
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import built_once
from hostile_cases import (
    ASSIGNMENT,
    CASES,
    ESCAPED_MARK,
    HOST_SEGMENT_KEY,
    NOTEBOOK,
    STUDENT_SEGMENT_KEY,
    Context,
)

ROOT = Path(__file__).resolve().parents[2]
JAXCOURSE = [sys.executable, "-m", "jaxcourse.cli"]
# one worker grades the hostile class and runs everything that reads it
pytestmark = pytest.mark.xdist_group("hostile")
LIMITS = ["--cell-timeout", "20", "--notebook-timeout", "240", "--memory", "1.5", "--no-progress"]

class Listener:
    """A TCP server on the host's loopback; a sandboxed kernel must never reach it."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()


def _shmget(key: int, create: bool = False) -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return libc.shmget(key, 4096 if create else 0, 0o1600 if create else 0)


def _shm_remove(segment: int) -> None:
    import ctypes

    if segment >= 0:
        ctypes.CDLL(None).shmctl(segment, 0, None)  # IPC_RMID


def _tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.as_posix().encode() + path.read_bytes())
    return h.hexdigest()


def grade(submissions: Path, course: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [*JAXCOURSE, "grade", ASSIGNMENT, str(submissions), "--course-dir", str(course), *LIMITS, *extra]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        stdout, stderr = process.communicate(timeout=900)
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    result.pid = process.pid
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def scores(course: Path) -> dict[str, float]:
    with open(course / "grades.csv", newline="") as handle:
        return {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle)}


def state(course: Path) -> dict:
    return json.loads((course / ".jaxcourse" / f"{ASSIGNMENT}.json").read_text())["students"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The hostile class, graded once per test session (whichever worker gets here first)."""
    with built_once(tmp_path_factory, "hostile") as (base, build):
        submissions, course = base / "submissions", base / "course"
        if build:
            listener = Listener()
            canary = base / "canary" / "canary.txt"
            canary.parent.mkdir()
            canary.write_text("untouched")
            ctx = Context(ROOT, course, submissions, listener.port, canary)
            for case in CASES:
                for name, data in case.build(ctx).items():
                    path = submissions / case.name / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
            protected = {name: _tree_digest(ROOT / name) for name in ("solutions", "exercises")}
            host_segment = _shmget(HOST_SEGMENT_KEY, create=True)
            try:
                result = grade(submissions, course)
            finally:
                _shm_remove(host_segment)
            left = _shmget(STUDENT_SEGMENT_KEY)
            _shm_remove(left)
            escaped = subprocess.run(["pgrep", "-f", ESCAPED_MARK], capture_output=True, text=True).stdout.split()
            for pid in escaped:
                subprocess.run(["kill", "-9", pid])
            cgroups = [str(p) for p in Path("/sys/fs/cgroup").glob(f"**/jaxcourse-{result.pid}-*")]
            facts = {"output": result.stdout, "connections": listener.connections, "port": listener.port,
                     "protected": protected, "student_segment_left": left >= 0, "escaped": escaped,
                     "cgroups_left": cgroups, "canary": canary.read_text(), "canary_owner": canary.stat().st_uid,
                     "canary_dir_files": sorted(p.name for p in canary.parent.iterdir())}
            (base / "facts.json").write_text(json.dumps(facts))
        facts = json.loads((base / "facts.json").read_text())
    return {"ctx": Context(ROOT, course, submissions, facts["port"], base / "canary" / "canary.txt"), "course": course,
            "submissions": submissions, **facts}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_submission_gets_its_score_and_reason(hostile, case):
    got = scores(hostile["course"])
    assert case.name in got, f"{case.name} missing from grades.csv:\n{hostile['output']}"
    record = state(hostile["course"])[case.name]
    said = " | ".join([record["zero_reason"], *record["notes"]])
    assert got[case.name] == case.expected, f"{case.name}: {got[case.name]} != {case.expected}; notes: {said}"
    assert case.reason in said, f"{case.name}: expected {case.reason!r} in the notes: {said}"
    if case.reason:
        assert case.name in hostile["output"], "the summary names every student with a note or a zero"


@pytest.mark.slow
def test_every_student_is_in_grades_csv_and_the_gradebook(hostile):
    from nbgrader.api import Gradebook

    assert set(scores(hostile["course"])) == {c.name for c in CASES}
    with Gradebook(f"sqlite:///{hostile['course'] / 'gradebook.db'}") as gradebook:
        assert {s.id for s in gradebook.students} == {c.name for c in CASES}


@pytest.mark.slow
def test_the_course_and_the_host_were_not_touched(hostile):
    for name, digest in hostile["protected"].items():
        assert _tree_digest(ROOT / name) == digest, f"{name}/ changed while grading"
    assert hostile["connections"] == 0, "a student kernel reached the host's network"
    assert "isolation: namespaces" in hostile["output"] or "warning: student code ran" in hostile["output"]


def _test_lines(hidden: bool) -> list[str]:
    """Distinctive lines of the test cells' hidden (or visible) parts."""
    import nbformat

    from jaxcourse.grading.submissions import split_hidden

    notebook = nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    parts = [split_hidden(c.source) for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    shown = {line.strip() for visible, _ in parts for line in visible.splitlines() if len(line.strip()) > 25}
    if not hidden:
        return sorted(shown)
    return [line.strip() for _, secret in parts for line in secret.splitlines()
            if len(line.strip()) > 25 and line.strip() not in shown]


def feedback_text(path: Path) -> str:
    """The text a student reads in a feedback page (tags dropped, entities decoded)."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


@pytest.mark.slow
def test_feedback_for_every_submitter_shows_no_hidden_test(hostile):
    course = hostile["course"]
    hidden, visible = _test_lines(hidden=True), _test_lines(hidden=False)
    assert len(hidden) > 20 and len(visible) > 10
    for case in CASES:
        page = course / "feedback" / case.name / ASSIGNMENT / "01_xor.html"
        if case.name == "no-notebook":
            assert not page.exists()
            continue
        text = feedback_text(page)
        assert all(line in text for line in visible), f"{case.name}: visible tests missing from feedback"
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{case.name}'s feedback shows hidden test code: {leaked[:3]}"


@pytest.mark.slow
def test_nothing_a_student_started_outlives_grading(hostile):
    assert not hostile["escaped"], "a process a student detached (setsid, double fork) survived grading"
    assert not hostile["student_segment_left"], "a student's SysV shared memory segment outlived grading"
    assert not hostile["cgroups_left"], f"cgroups left behind: {hostile['cgroups_left']}"


@pytest.mark.slow
def test_planted_symlinks_are_never_followed(hostile):
    assert hostile["canary"] == "untouched"
    assert hostile["canary_owner"] == 0
    assert hostile["canary_dir_files"] == ["canary.txt"], "the grader wrote through a student's link"


@pytest.mark.slow
def test_feedback_is_inert_and_shows_no_grader_lines(hostile):
    course = hostile["course"]
    page = (course / "feedback" / "html-output" / ASSIGNMENT / "01_xor.html").read_text()
    assert "window.jaxcoursePwned" in page, "the student's output is shown, as text"
    assert "<script>window.jaxcoursePwned" not in page and "<svg xmlns" not in page
    assert "application/javascript" not in page or "shown as text" in page
    for case in CASES:
        page = course / "feedback" / case.name / ASSIGNMENT / "01_xor.html"
        if page.exists():
            assert "__jaxcourse_receipt__" not in page.read_text(), f"{case.name}: grader lines in feedback"


@pytest.mark.slow
@pytest.mark.parametrize("student, limit", [("huge-print", 200_000), ("many-cells", 700_000)])
def test_output_is_capped_per_notebook(hostile, student, limit):
    graded = hostile["course"] / "autograded" / student / ASSIGNMENT / NOTEBOOK
    assert graded.stat().st_size < limit, f"{student}: {graded.stat().st_size:,} bytes"
    assert "not kept" in graded.read_text()


@pytest.mark.slow
def test_output_flood_is_cut_in_the_graded_notebook(hostile):
    graded = hostile["course"] / "autograded" / "output-flood" / ASSIGNMENT / NOTEBOOK
    assert graded.stat().st_size < 500_000
    assert "not kept" in graded.read_text()


@pytest.mark.slow
def test_rerun_changes_nothing_and_a_resubmission_regrades_only_its_student(hostile, tmp_path):
    import shutil

    # on a copy: the other tests read the class as first graded
    course, submissions = tmp_path / "course", tmp_path / "submissions"
    shutil.copytree(hostile["course"], course)
    shutil.copytree(hostile["submissions"], submissions)
    before = (course / "grades.csv").read_bytes()
    again = grade(submissions, course)
    assert "nothing changed" in again.stdout
    assert (course / "grades.csv").read_bytes() == before
    fixed = hostile["ctx"].solved()
    import nbformat

    nbformat.write(fixed, submissions / "test-deleted" / NOTEBOOK)
    resubmitted = grade(submissions, course)
    assert "1 graded now" in resubmitted.stdout, resubmitted.stdout
    assert scores(course)["test-deleted"] == 12.0
    one = grade(submissions, course, "--student", "release")
    assert "1 graded now" in one.stdout
    assert scores(course)["release"] == 0.0


@pytest.fixture()
def dask_cluster():
    """A real Dask scheduler and two workers on loopback, as separate processes."""
    import time

    bin_dir = Path(sys.executable).parent
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    address = f"tcp://127.0.0.1:{port}"
    processes = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    for _ in range(2):
        processes.append(subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nthreads", "1",
                                           "--no-dashboard", "--name", f"worker-{len(processes)}"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    from distributed import Client

    with Client(address, timeout=60) as client:
        deadline = time.monotonic() + 60
        while len(client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(client.scheduler_info()["workers"]) == 2
    yield address
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


@pytest.mark.slow
def test_lms_zip_graded_through_a_running_dask_scheduler(tmp_path, dask_cluster):
    """Canvas-style flat file names in one zip, graded by two external workers: the Canvas user id
    is the student id, the name is shown beside it."""
    import zipfile

    import nbformat

    from jaxcourse.course import assignments

    ctx = Context(ROOT, tmp_path / "course", tmp_path / "unused", 0)
    wrong = ctx.with_answer("task-05-hamming-matrix", ctx.mistake("task-05-hamming-matrix"))
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("01_xor submissions/ada_1234_5678_01_xor.ipynb", nbformat.writes(ctx.solved()))
        zipped.writestr("01_xor submissions/grace_2345_6789_01_xor.ipynb", nbformat.writes(wrong))
        zipped.writestr("01_xor submissions/linus_3456_7890_01_xor.ipynb", nbformat.writes(ctx.released()))
        zipped.writestr("01_xor submissions/readme.txt", "from the LMS")
    result = grade(archive, tmp_path / "course", "--scheduler", dask_cluster)
    assert scores(tmp_path / "course") == {"1234": 12.0, "2345": 11.0, "3456": 0.0}
    assert "readme.txt" in result.stdout, "a file with no student id is reported"
    assert "3456 (linus)" in result.stdout, "who scored zero is named by id and name"
    for student in ("1234", "2345", "3456"):
        assert (tmp_path / "course" / "feedback" / student / ASSIGNMENT / "01_xor.html").is_file()
    assert assignments.tasks(ROOT, ASSIGNMENT)[-1].grade_id in result.stdout
