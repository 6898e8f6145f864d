"""`jaxcourse grade` end to end: the hostile class, re-runs, regrading one student, feedback."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
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
    HOSTNAME,
    NOTEBOOK,
    STUDENT_SEGMENT_KEY,
    Context,
)

ROOT = Path(__file__).resolve().parents[2]
JAXCOURSE = [sys.executable, "-m", "jaxcourse.cli"]
# one worker grades the hostile class and runs everything that reads it
pytestmark = pytest.mark.xdist_group("hostile")
# 01_xor's slowest cell takes under a second; the endless loops spin for the whole cell limit
LIMITS = ["--cell-timeout", "10", "--notebook-timeout", "240", "--memory", "1.5", "--no-progress"]

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


def _isolation() -> str:
    """What `jaxcourse grade` will use here; the cases' expectations depend on it."""
    from jaxcourse.grading.sandbox.settings import namespaces_available

    if namespaces_available():
        return "namespaces"
    if os.geteuid() == 0:
        pytest.fail("root without namespaces (no `unshare`?): the hostile cases expect either namespaces "
                    "(root) or a user who is not root (no namespaces, no cgroups: GitHub's workflow)")
    return "process"


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
            host_file = base / "host" / "grades-copy.csv"
            host_file.parent.mkdir()
            host_file.write_text("untouched")
            isolation = _isolation()
            ctx = Context(ROOT, course, submissions, listener.port, canary, isolation, host_file)
            for case in CASES:
                for name, data in case.build(ctx).items():
                    path = submissions / case.name / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
            protected = {name: _tree_digest(ROOT / name) for name in ("solutions", "exercises")}
            host_segment = _shmget(HOST_SEGMENT_KEY, create=True)
            hostname = socket.gethostname()
            try:
                result = grade(submissions, course)
            finally:
                _shm_remove(host_segment)
            reported = re.search(r"isolation: (\w+)\)", result.stdout)
            assert reported and reported.group(1) == isolation, result.stdout[:500]
            left = _shmget(STUDENT_SEGMENT_KEY)
            _shm_remove(left)
            escaped = subprocess.run(["pgrep", "-f", ESCAPED_MARK], capture_output=True, text=True).stdout.split()
            for pid in escaped:
                subprocess.run(["kill", "-9", pid])
            cgroups = [str(p) for p in Path("/sys/fs/cgroup").glob(f"**/jaxcourse-{result.pid}-*")]
            facts = {"output": result.stdout, "connections": listener.connections, "port": listener.port,
                     "protected": protected, "student_segment_left": left >= 0, "escaped": escaped,
                     "cgroups_left": cgroups, "canary": canary.read_text(), "canary_owner": canary.stat().st_uid,
                     "canary_dir_files": sorted(p.name for p in canary.parent.iterdir()), "isolation": isolation,
                     "host_file": host_file.read_text(), "hostname": [hostname, socket.gethostname()]}
            (base / "facts.json").write_text(json.dumps(facts))
        facts = json.loads((base / "facts.json").read_text())
    ctx = Context(ROOT, course, submissions, facts["port"], base / "canary" / "canary.txt", facts["isolation"],
                  base / "host" / "grades-copy.csv")
    return {"ctx": ctx, "course": course, "submissions": submissions, **facts}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_submission_gets_its_score_and_reason(hostile, case):
    got = scores(hostile["course"])
    assert case.name in got, f"{case.name} missing from grades.csv:\n{hostile['output']}"
    record = state(hostile["course"])[case.name]
    said = " | ".join([record["zero_reason"], *record["notes"]])
    expected, reason = case.expected_in(hostile["isolation"])  # without namespaces some attacks succeed
    assert got[case.name] == expected, (f"{case.name} ({hostile['isolation']}): {got[case.name]} != {expected}; "
                                        f"notes: {said}")
    assert reason in said, f"{case.name}: expected {reason!r} in the notes: {said}"
    if reason:
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
    before, after = hostile["hostname"]
    assert after == before != HOSTNAME, "a student kernel renamed the host"
    if hostile["isolation"] == "namespaces":
        assert hostile["connections"] == 0, "a student kernel reached the host's network"
        assert hostile["host_file"] == "untouched", "a student kernel wrote a file of the host's"
        assert "warning: student code ran" not in hostile["output"]
    else:  # not stopped without namespaces: it happened, and the summary says it could
        assert hostile["connections"] >= 1 and hostile["host_file"] == "owned"
        warning = hostile["output"].split("  total:")[0]
        assert all(w in warning for w in ("warning: student code ran as this user", "any file", "network"))


def _test_lines(hidden: bool) -> list[str]:
    """Distinctive lines of the test cells' hidden (or visible) parts."""
    import nbformat

    from jaxcourse.grading.intake.submissions import split_hidden

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
    assert not hostile["cgroups_left"], f"cgroups left behind: {hostile['cgroups_left']}"
    if hostile["isolation"] != "namespaces":  # not root: no IPC namespace, no cgroups; the summary says so
        assert hostile["escaped"] and hostile["student_segment_left"], "expected to outlive grading here"
        assert all(w in hostile["output"] for w in ("SysV shared memory", "detached processes"))
        return
    assert not hostile["escaped"], "a process a student detached (setsid, double fork) survived grading"
    assert not hostile["student_segment_left"], "a student's SysV shared memory segment outlived grading"


@pytest.mark.slow
def test_planted_symlinks_are_never_followed(hostile):
    assert hostile["canary"] == "untouched"
    assert hostile["canary_owner"] == os.getuid(), "the grader changed the owner of a file through a link"
    assert hostile["canary_dir_files"] == ["canary.txt"], "the grader wrote through a student's link"


@pytest.mark.slow
def test_feedback_is_inert_and_shows_no_grader_lines(hostile):
    course = hostile["course"]
    page = (course / "feedback" / "html-output" / ASSIGNMENT / "01_xor.html").read_text()
    assert "window.jaxcoursePwned" in page, "the student's output is shown, as text"
    assert "<script>window.jaxcoursePwned" not in page and "<svg xmlns" not in page
    assert "application/javascript" not in page or "shown as text" in page
    assert "<math" in page and "$h = x$" not in page, "the task's formulas are MathML, drawn offline"
    page = course / "feedback" / "markup-in-notes" / ASSIGNMENT / "01_xor.html"
    cells = page.read_text()[page.read_text().index("<main>"):]
    assert "<img src=x" not in cells and "<script>window" not in cells, "a grade id or Markdown became markup"
    assert "unknown grade_id '<img src=x onerror=" in feedback_text(page), "the note is shown, as text"
    for case in CASES:
        page = course / "feedback" / case.name / ASSIGNMENT / "01_xor.html"
        if page.exists():
            text = page.read_text()
            assert "__jaxcourse_receipt__" not in text, f"{case.name}: grader lines in feedback"
            assert "jaxcourse/grading/" not in text, f"{case.name}: a frame of the grader's code in feedback"


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


def _grade_here(submitted: Path, course: Path, **options):
    """`pipeline.grade` in this process, with the hostile run's limits: the Report comes back."""
    from jaxcourse.grading import pipeline
    from jaxcourse.grading.sandbox.settings import Limits

    limits = Limits(cell_seconds=10, notebook_seconds=240, memory_bytes=int(1.5 * 2**30))
    return pipeline.grade(ROOT, ASSIGNMENT, submitted, course=course, workers=2, progress=False, limits=limits,
                          **options)


@pytest.mark.slow
def test_without_namespaces_the_attacks_they_stop_succeed_and_the_summary_says_so(tmp_path):
    """Kernels as this process's user (`isolate=False`, as `make test` without root gets): what only
    namespaces stop happens, each case gets its `unconfined` score, and the summary says what
    was not stopped. Only cases harmless to this machine even as root: a loopback listener, a
    SysV segment, reading the course, writing a file made for it."""
    chosen = [c for c in CASES if c.name in ("network", "sysv-ipc", "reads-hidden-tests", "writes-gradebook")]
    listener = Listener()
    submissions, course, host_file = tmp_path / "submissions", tmp_path / "course", tmp_path / "host.csv"
    host_file.write_text("untouched")
    ctx = Context(ROOT, course, submissions, listener.port, isolation="process", host_file=host_file)
    for case in chosen:
        for name, data in case.build(ctx).items():
            (submissions / case.name).mkdir(parents=True, exist_ok=True)
            (submissions / case.name / name).write_bytes(data)
    host_segment = _shmget(HOST_SEGMENT_KEY, create=True)
    try:
        report = _grade_here(submissions, course, isolate=False)
    finally:
        _shm_remove(host_segment)
        _shm_remove(_shmget(STUDENT_SEGMENT_KEY))
    assert report.isolation == "process"
    got = {name: record.score for name, record in report.students.items()}
    assert got == {c.name: c.expected_in("process")[0] for c in chosen}
    assert {c.name: c.expected_in("namespaces")[0] for c in chosen} != got, "namespaces would have stopped some"
    assert listener.connections >= 1 and host_file.read_text() == "owned"
    warning = report.summary().split("  total:")[0]
    for what in ("ran as this user", "any file", "symlinks", "network", "IPC", "disk", "detached processes",
                 "memory without a cap"):
        assert what in warning, f"{what!r} missing from the summary's warning:\n{warning}"


def _damage(archive: Path, name: str) -> None:
    """Flip a byte of a stored entry's data: its CRC no longer matches."""
    import zipfile

    with zipfile.ZipFile(archive) as zipped:
        info = zipped.getinfo(name)
    data = bytearray(archive.read_bytes())
    data[info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 100] ^= 0xFF
    archive.write_bytes(bytes(data))


@pytest.mark.slow
def test_one_lms_zip_of_odd_names_through_the_pipeline(tmp_path, monkeypatch):
    """Moodle and Canvas names in one download: Cyrillic names, two Jane Does, a damaged entry, a
    file and a folder of one name, a newline and an escape in a name. Each student is the LMS's
    id, each gets their own score and notes, and nothing of a name can forge a summary line."""
    import unicodedata
    import zipfile

    import nbformat

    ctx = Context(ROOT, tmp_path / "course", tmp_path / "unused", 0)
    solved = nbformat.writes(ctx.solved())
    wrong = nbformat.writes(ctx.with_answer("task-05-hamming-matrix", ctx.mistake("task-05-hamming-matrix")))
    forged = "eve\n  grades: forged.csv\x1b[2K"
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("Иван Петров_1011_assignsubmission_file_01_xor.ipynb", solved)
        zipped.writestr("Пётр Иванов_1012_assignsubmission_file_01_xor.ipynb", solved)
        zipped.writestr("Пётр Иванов_1012_assignsubmission_file_notes", "a file")
        zipped.writestr("Пётр Иванов_1012_assignsubmission_file_notes/more.txt", "and a folder of the same name")
        zipped.writestr("doejane_1001_9001_01_xor.ipynb", solved)
        zipped.writestr("doejane_1001_9004_notes\x07.txt", "a bell in a file name")
        zipped.writestr("doejane_1002_9002_01_xor.ipynb", solved)
        zipped.writestr(f"{forged}_1003_9003_01_xor.ipynb", wrong)
    _damage(archive, "doejane_1002_9002_01_xor.ipynb")
    report = _grade_here(archive, ctx.course)
    records = report.students
    assert {s: r.score for s, r in records.items()} == {"1011": 12.0, "1012": 12.0, "1001": 12.0, "1002": 0.0,
                                                        "1003": 11.0}
    assert scores(ctx.course) == {s: r.score for s, r in records.items()}, "grades.csv has every row, whole"
    assert (records["1011"].name, records["1012"].name) == ("Иван Петров", "Пётр Иванов")
    assert records["1001"].name == records["1002"].name == "doejane" and records["1001"].file_id == "9001"
    assert any("damaged in the zip" in n and "CRC" in n for n in records["1002"].notes), records["1002"].notes
    assert any(n.startswith("notes/more.txt: not kept") for n in records["1012"].notes), records["1012"].notes
    assert not any("damaged" in n or "not kept" in n for s in ("1011", "1001", "1003") for n in records[s].notes)
    summary = report.summary()
    assert not [ch for ch in summary if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")]
    assert sum(line.strip().startswith("grades:") for line in summary.splitlines()) == 1
    assert "1003 (eve grades: forged.csv [2K)" in summary and "had control characters" in summary
    with open(ctx.course / "grades.csv", newline="") as handle:
        assert len(list(csv.reader(handle))) == 1 + len(records), "a newline in a name split a row of grades.csv"
    assert "notes\\u0007.txt" in summary and "1012 (Пётр Иванов): notes/more.txt: not kept" in summary
    for student in ("1011", "1012", "1001", "1003"):
        assert (ctx.course / "feedback" / student / ASSIGNMENT / "01_xor.html").is_file()
    # the same download over the cap on what one run reads: refused in one line, this run's results kept
    from jaxcourse.grading.intake import downloads, submissions

    kept = {name: (ctx.course / name).read_bytes() for name in ("grades.csv", "gradebook.db")}
    monkeypatch.setattr(downloads, "MAX_DOWNLOAD_BYTES", 2**16)
    with pytest.raises(submissions.SubmissionError) as refused:
        _grade_here(archive, ctx.course, force=True)
    assert "\n" not in str(refused.value) and "nothing graded, the last run's results are kept" in str(refused.value)
    assert kept == {name: (ctx.course / name).read_bytes() for name in kept}


def test_students_open_a_cache_entry_by_its_name_and_cannot_list_the_cache():
    """The students' compilation cache (`pipeline._unlisted`): the grader's, mode 711, its entries
    644. As `nobody`, a kernel's user, an entry opens by name and the folder does not list."""
    import shutil
    import stat
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="jc-unlisted-"))
    try:
        os.chmod(base, 0o755)
        folder = base / "students"
        folder.mkdir()
        entry = folder / "jit_pascal-0123abcd-cache"
        entry.write_bytes(b"compiled")
        from jaxcourse.grading import pipeline

        pipeline._unlisted(folder)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o711
        assert stat.S_IMODE(entry.stat().st_mode) == 0o644
        if os.geteuid() != 0:
            return  # only root can become nobody; CI runs as root
        probe = ("import os, sys\nprint(open(sys.argv[1] + '/jit_pascal-0123abcd-cache', 'rb').read())\n"
                 "try:\n    os.listdir(sys.argv[1])\nexcept PermissionError:\n    print('listing refused')\n")
        seen = subprocess.run(["/usr/bin/python3", "-c", probe, str(folder)], capture_output=True, text=True,
                              timeout=60, preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
        assert seen.stdout.split("\n")[:2] == ["b'compiled'", "listing refused"], seen.stdout + seen.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)
