"""Collecting submissions and rebuilding them on the trusted source (no kernels: fast)."""

import json
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from jaxcourse.course import assignments
from jaxcourse.grading.intake import downloads, submissions
from jaxcourse.grading.out import gradebook

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "solutions" / "01_xor" / "01_xor.ipynb"
RELEASE = ROOT / "exercises" / "01_xor" / "01_xor.ipynb"


def _source():
    return nbformat.read(SOURCE, as_version=4)


def test_folder_of_student_folders(tmp_path):
    (tmp_path / "ada").mkdir()
    (tmp_path / "ada" / "01_xor.ipynb").write_text("{}")
    (tmp_path / "ada" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "ada" / ".ipynb_checkpoints" / "01_xor-checkpoint.ipynb").write_text("{}")
    (tmp_path / "bob_01_xor.ipynb").write_text("{}")
    (tmp_path / "README").write_text("no id here")
    found, orphans = submissions.collect(tmp_path)
    assert sorted(found) == ["ada", "bob"]
    assert list(found["ada"].files) == ["01_xor.ipynb"]
    assert list(found["bob"].files) == ["01_xor.ipynb"]
    assert orphans == ["README"]


def test_lms_zip_with_a_wrapping_folder_and_unsafe_ids(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("Assignment 1/ada_111_222_01_xor.ipynb", "{}")
        zipped.writestr("Assignment 1/bob_333_444_01_xor.ipynb", "{}")
        zipped.writestr("Assignment 1/../../evil_1_x.ipynb", "{}")
        zipped.writestr("__MACOSX/._ada_111_222_01_xor.ipynb", "junk")
    found, _ = submissions.collect(archive)
    assert {"111", "333"} <= set(found), "Canvas names: the student id is the Canvas user id"
    assert found["111"].files == {"01_xor.ipynb": b"{}"}
    assert found["111"].name == "ada" and found["111"].file_id == "222"
    assert all(".." not in student and "/" not in student for student in found)


def _zip(path, names, when=(2024, 1, 31, 20, 0, 0)):
    with zipfile.ZipFile(path, "w") as zipped:
        for name in names:
            zipped.writestr(zipfile.ZipInfo(name, when), "{}")
    return path


def test_canvas_names_same_name_two_ids_and_the_late_marker(tmp_path):
    archive = _zip(tmp_path / "submissions.zip", ["doejane_1001_9001_01_xor.ipynb", "doejane_1002_9002_01_xor-1.ipynb",
                                                  "latebob_LATE_1003_9003_01_xor.ipynb", "doejane_1001_9004_notes.txt"])
    found, orphans = submissions.collect(archive)
    assert sorted(found) == ["1001", "1002", "1003"] and orphans == []
    assert found["1001"].files.keys() == {"01_xor.ipynb", "notes.txt"}
    assert found["1002"].files.keys() == {"01_xor-1.ipynb"}
    assert [found[s].late_marker for s in sorted(found)] == [False, False, True]
    assert found["1003"].name == "latebob"
    assert found["1003"].submitted_at == datetime(2024, 1, 31, 20, 0), "the file's time in the zip"


def test_moodle_names_flat_and_in_folders(tmp_path):
    archive = _zip(tmp_path / "moodle.zip", [
        "Jane Doe_1001_assignsubmission_file/01_xor.ipynb",  # Moodle 4.1+
        "Jane Doe_1002_assignsubmission_file_/01_xor.ipynb",  # Moodle 3.1 to 4.0
        "Bob Late_1003_assignsubmission_file_01_xor.ipynb",  # flat
        "Bob Late_1003_assignsubmission_onlinetext_onlinetext.html",
    ])
    found, orphans = submissions.collect(archive)
    assert sorted(found) == ["1001", "1002", "1003"] and orphans == []
    assert all("01_xor.ipynb" in found[s].files for s in found)
    assert found["1002"].name == "Jane Doe"


def test_blackboard_names_carry_the_attempt_time(tmp_path):
    archive = _zip(tmp_path / "bb.zip", ["Homework 1_jdoe_attempt_2024-02-01-09-30-00_01_xor.ipynb",
                                         "Homework 1_jdoe_attempt_2024-02-01-09-30-00.txt"])
    found, _ = submissions.collect(archive)
    assert list(found) == ["jdoe"]
    assert found["jdoe"].submitted_at == datetime(2024, 2, 1, 9, 30)
    assert "01_xor.ipynb" in found["jdoe"].files


def test_a_custom_pattern_replaces_the_lms_layouts(tmp_path):
    archive = _zip(tmp_path / "x.zip", ["doejane_1001_9001_01_xor.ipynb"])
    found, _ = submissions.collect(archive, r"^(?P<student>[a-z]+)_(?P<file>.+)$")
    assert list(found) == ["doejane"]


@pytest.mark.parametrize("pattern, problem", [
    ("(", "not a valid regex"),
    (r"^(?P<file>.+)$", "(?P<student>"),
    (r"^(?P<student>[^_]+)_.+$", "(?P<file>"),
])
def test_bad_patterns_are_errors(tmp_path, pattern, problem):
    archive = _zip(tmp_path / "x.zip", ["ada_01_xor.ipynb"])
    with pytest.raises(submissions.SubmissionError) as error:
        submissions.collect(archive, pattern)
    assert problem in str(error.value)


def test_a_missing_path_does_not_exist(tmp_path):
    with pytest.raises(submissions.SubmissionError, match="does not exist"):
        submissions.collect(tmp_path / "nope.zip")


def test_one_student_folder_is_not_mistaken_for_a_wrapper(tmp_path):
    archive = tmp_path / "one.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("ada/01_xor.ipynb", "{}")
        zipped.writestr("ada/notes.txt", "mine")
    found, _ = submissions.collect(archive)
    assert list(found) == ["ada"]


def test_not_a_submission_folder_or_zip_is_an_error(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(submissions.SubmissionError):
        submissions.collect(tmp_path / "file.txt")


@pytest.mark.parametrize("data, problem", [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"not json", "not JSON"),
    (b"[1, 2]", "without a list of cells"),
    (b'{"cells": [{"cell_type": "code", "source": 5}]}', "not"),
])
def test_unreadable_notebooks_say_why(data, problem):
    notebook, why = submissions.read_notebook(data)
    assert notebook is None and problem in why


def test_a_real_notebook_reads():
    notebook, why = submissions.read_notebook(RELEASE.read_bytes())
    assert notebook is not None and why == ""


def test_pick_notebooks_finds_renamed_and_lms_prefixed_files():
    sub = submissions.Submission("ada", {"123_01_xor.ipynb": b"{}", "extra.py": b""})
    found, notes = submissions.pick_notebooks(sub, ["01_xor.ipynb"])
    assert found["01_xor.ipynb"][0] == "123_01_xor.ipynb"
    assert any("extra.py" in n for n in notes)
    sub = submissions.Submission("ada", {"final.ipynb": b"{}"})
    found, notes = submissions.pick_notebooks(sub, ["01_xor.ipynb"])
    assert found["01_xor.ipynb"][0] == "final.ipynb" and "renamed" in notes[0]


def test_plan_of_the_solution_runs_every_code_cell_and_splits_hidden_tests():
    source = _source()
    plan = submissions.plan(source, assignments.solved(SOURCE, RELEASE))
    assert plan.notes == []
    kinds = [s.kind for s in plan.steps]
    assert kinds.count("test") == len([c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")])
    assert "extra" not in kinds
    tests = [s for s in plan.steps if s.kind == "test"]
    assert all("BEGIN HIDDEN" not in s.source and s.hidden for s in tests)
    shown = "\n".join(c.source for c in plan.cells)
    assert "_forward_numpy" not in shown and submissions.HIDDEN_NOTE in shown


def test_plan_keeps_added_cells_and_ignores_edited_tests():
    student = assignments.solved(SOURCE, RELEASE)
    test_cell = next(c for c in student.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test-01-forward")
    test_cell.source = "pass"
    student.cells.insert(3, nbformat.v4.new_code_cell("helper = 1"))
    plan = submissions.plan(_source(), student)
    assert [s.source for s in plan.steps if s.kind == "extra"] == ["helper = 1"]
    assert any("test-01-forward was edited" in n for n in plan.notes)
    assert next(s for s in plan.steps if s.cell == "test-01-forward").source != "pass"


def test_plan_of_no_notebook_has_empty_answers():
    plan = submissions.plan(_source(), None)
    answers = [s for s in plan.steps if s.kind == "answer"]
    assert answers and all(s.source == "" for s in answers)


def test_digest_changes_with_any_file():
    a = submissions.Submission("ada", {"x.ipynb": b"1"})
    b = submissions.Submission("ada", {"x.ipynb": b"2"})
    assert a.digest() != b.digest()
    assert a.digest() == submissions.Submission("ada", {"x.ipynb": b"1"}).digest()


def test_split_hidden():
    visible, hidden = submissions.split_hidden("a = 1\n### BEGIN HIDDEN TESTS\nassert a\n### END HIDDEN TESTS\nb = 2")
    assert visible == "a = 1\nb = 2" and hidden == "assert a"
    assert json.dumps(submissions.split_hidden("x = 1")) == json.dumps(["x = 1", ""])


def _text(notebook) -> str:
    """Everything a reader of the notebook sees: sources and output texts."""
    parts = []
    for cell in notebook.cells:
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts += [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", [])]
    return "\n".join(parts)


def _fake_run(plan, hidden_error):
    from jaxcourse.grading.intake import steps

    results = []
    for step in plan.steps:
        hidden = None
        if step.hidden:
            hidden = steps.Outcome("error", [{"output_type": "error", "ename": "AssertionError",
                                                "evalue": "expected 0.25", "traceback": [hidden_error]}],
                                     "AssertionError: expected 0.25", summary="values differ: forward of … rows")
        results.append(steps.StepResult(step.cell, step.kind, steps.Outcome("ok"), hidden))
    return steps.Run(results, [], 1.0, "process")


def test_feedback_hides_hidden_tests_unless_asked():

    source = _source()
    plan = submissions.plan(source, assignments.solved(SOURCE, RELEASE))
    secret = next(s.hidden for s in plan.steps if s.hidden).splitlines()[-1]
    run = _fake_run(plan, f"Traceback: {secret}")
    hidden = _text(gradebook.autograded_notebook(source, plan, run, ["a note"]))
    assert secret not in hidden and "expected 0.25" not in hidden
    assert "[hidden test failed] values differ: forward of … rows" in hidden and "a note" in hidden
    shown = _text(gradebook.autograded_notebook(source, plan, run, [], show_hidden=True))
    assert secret in shown and "expected 0.25" in shown


def test_every_submitter_stays_distinct_whatever_their_name(tmp_path):
    """Moodle's flat download with names in other scripts, accents and leading dots: never merged."""
    archive = tmp_path / "moodle.zip"
    names = ["Иван Петров", "Пётр Иванов", "José", "Jose", "~ada", ".ada", "ada", "李雷", "a/b"]
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in names:
            folder = name.replace("/", "_slash_") if "/" in name else name
            zipped.writestr(f"{folder}/01_xor.ipynb", name)
    found, _ = submissions.collect(archive)
    assert len(found) == len(names), sorted(found)
    by_content = {sub.files["01_xor.ipynb"].decode(): student for student, sub in found.items()}
    assert by_content["Иван Петров"] == f"Иван_Петров-{_hash('Иван Петров')}"
    assert by_content["李雷"] == "李雷"
    assert by_content["José"] != by_content["Jose"]
    assert len({by_content["~ada"], by_content[".ada"], by_content["ada"]}) == 3
    assert by_content["ada"] == "ada", "a safe id keeps its name; one that must be cleaned gets a hash"
    renamed = [n for sub in found.values() for n in sub.notes if "renamed" in n]
    assert len(renamed) == 4, renamed  # Иван Петров, Пётр Иванов, ~ada, .ada


def _hash(raw: str) -> str:
    import hashlib

    return hashlib.sha256(raw.encode()).hexdigest()[:8]


def test_a_cleaned_id_stays_the_same_when_a_colliding_student_comes_later():
    """Run 1 has `~ada` alone; run 2 brings `.ada` (which cleans the same way): `~ada` keeps its id."""
    first = downloads.distinct_ids(["~ada", "bob"])
    second = downloads.distinct_ids(["~ada", ".ada", "bob", "ada"])
    assert first["~ada"] == second["~ada"] == f"ada-{_hash('~ada')}"
    assert first["bob"] == second["bob"] == "bob" and second["ada"] == "ada"
    assert len(set(second.values())) == 4
    forged = downloads.distinct_ids([f"ada-{_hash('~ada')}", "~ada"])
    assert len(set(forged.values())) == 2, "an id made to look like a cleaned one still stays apart"


def test_a_control_character_in_a_name_cannot_forge_a_summary_line():
    from jaxcourse.grading.out.summary import Report, Student, summarize

    forged = "eve\n  grades: /tmp/fake.csv\x1b[2K"
    report = Report("01_xor", 12.0, [], {forged: Student(score=0.0, zero_reason=f"{forged}: empty")}, [forged],
                    [f"notes\nreadme{chr(0x2028)}.txt"], "namespaces", 1, 1.0, Path("/tmp/course"))
    lines = summarize(report).splitlines()
    assert sum(line.strip().startswith("grades:") for line in lines) == 1
    assert not any("\x1b" in line for line in lines)
    assert any("eve\\u000a" in line for line in lines)


def test_a_damaged_zip_entry_costs_only_its_student(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("ada/01_xor.ipynb", "ada's notebook " * 100)
        zipped.writestr("bob/01_xor.ipynb", "bob's notebook " * 100)
    data = bytearray(archive.read_bytes())
    at = data.find(b"bob/01_xor.ipynb") + len("bob/01_xor.ipynb") + 5
    data[at] ^= 0xFF  # corrupt bob's compressed bytes: a CRC or inflate error
    archive.write_bytes(bytes(data))
    found, _ = submissions.collect(archive)
    assert found["ada"].files["01_xor.ipynb"].startswith(b"ada's notebook")
    assert found["bob"].files == {}
    assert any("damaged in the zip" in note for note in found["bob"].notes)


def test_a_student_over_the_byte_cap_keeps_what_fits(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "MAX_STUDENT_BYTES", 1000)
    for name in ("a.ipynb", "b.bin", "c.bin"):
        (tmp_path / "ada" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "ada" / name).write_bytes(b"x" * 400)
    found, _ = submissions.collect(tmp_path)
    assert sorted(found["ada"].files) == ["a.ipynb", "b.bin"]
    assert any("c.bin: over" in note for note in found["ada"].notes)


def test_a_file_and_a_folder_of_the_same_name_cost_only_that_file(tmp_path):
    from jaxcourse.grading.out import gradebook

    sub = submissions.Submission("ada", {"01_xor.ipynb": b"{}", "notes": b"x", "notes/more.txt": b"y"})
    notes = gradebook.keep_submitted(tmp_path, "01_xor", sub)
    kept = tmp_path / "submitted" / "ada" / "01_xor"
    assert (kept / "01_xor.ipynb").read_bytes() == b"{}"
    assert len(notes) == 1 and "not kept" in notes[0]


def _peak_bytes(action) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_zip_over_a_students_cap_is_not_read_into_memory(tmp_path, monkeypatch):
    """Twelve 4 MiB entries for one student with a 10 MiB cap (zeros: the zip itself is small):
    the two that fit are read, the rest never inflated."""
    monkeypatch.setattr(downloads, "MAX_STUDENT_BYTES", 10 * 2**20)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("ada/01_xor.ipynb", "{}")
        for i in range(12):
            zipped.writestr(f"ada/data-{i}.bin", bytes(4 * 2**20))
        zipped.writestr("bob/01_xor.ipynb", "{}")
    assert archive.stat().st_size < 2**20
    found = {}
    peak = _peak_bytes(lambda: found.update(submissions.collect(archive)[0]))
    assert sorted(found["ada"].files) == ["01_xor.ipynb", "data-0.bin", "data-1.bin"]
    assert sum("over 10 MiB for one student" in n for n in found["ada"].notes) == 10
    assert found["bob"].files == {"01_xor.ipynb": b"{}"} and found["bob"].notes == []
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.0f} MiB for 8 MiB kept (48 MiB if every entry were read)"


def _forge_size(archive: Path, name: str, size: int) -> None:
    """Write `size` as `name`'s uncompressed size in the zip's central directory and local header."""
    import struct

    data = bytearray(archive.read_bytes())
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + name_length] == name.encode():
            struct.pack_into("<I", data, central + 24, size)
            local = struct.unpack_from("<I", data, central + 42)[0]
            struct.pack_into("<I", data, local + 22, size)
        central = data.find(b"PK\x01\x02", central + 4)
    archive.write_bytes(bytes(data))


def test_a_forged_size_header_gets_no_further_than_it_declared(tmp_path):
    """64 MiB of zeros whose header says 1 KiB: 1 KiB is inflated, the CRC fails, a note says so."""
    archive = tmp_path / "forged.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("ada/01_xor.ipynb", bytes(64 * 2**20))
        zipped.writestr("bob/01_xor.ipynb", "{}")
    _forge_size(archive, "ada/01_xor.ipynb", 1024)
    assert zipfile.ZipFile(archive).getinfo("ada/01_xor.ipynb").file_size == 1024
    found = {}
    peak = _peak_bytes(lambda: found.update(submissions.collect(archive)[0]))
    assert found["ada"].files == {} and found["bob"].files == {"01_xor.ipynb": b"{}"}
    assert any("damaged in the zip" in n and "CRC" in n for n in found["ada"].notes), found["ada"].notes
    assert peak < 4 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_a_download_over_the_total_cap_is_refused_before_anything_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "MAX_DOWNLOAD_BYTES", 3 * 2**20)
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for student in ("ada", "bob", "cy", "di"):
            zipped.writestr(f"{student}/01_xor.ipynb", bytes(2**20))
        zipped.writestr("eve/huge.bin", bytes(60 * 2**20))  # eve's own problem: over the file cap, not counted
    read = []
    monkeypatch.setattr(downloads, "_read", lambda entry: read.append(entry) or b"")
    with pytest.raises(submissions.SubmissionError) as error:
        submissions.collect(archive)
    message = str(error.value)
    assert "\n" not in message and "come to 4 MiB, over the 3 MiB one run reads" in message
    assert "nothing graded, the last run's results are kept" in message
    assert read == [], "nothing is read once the total is known to be over"


def test_without_namespaces_the_summary_lists_what_was_not_stopped():
    from jaxcourse.grading.out.summary import Report, Student, summarize

    students = {"ada": Student(score=12.0)}
    confined = summarize(Report("01_xor", 12.0, [], students, ["ada"], [], "namespaces", 1, 1.0, Path("/tmp/c")))
    assert "warning" not in confined
    text = summarize(Report("01_xor", 12.0, [], students, ["ada"], [], "process", 1, 1.0, Path("/tmp/c")))
    warning = text.split("  total:")[0]
    for what in ("reading or writing any file", "symlinks", "network", "IPC", "SysV shared memory", "disk",
                 "detached processes", "processes and threads", "memory without a cap", "README, 'Isolation'"):
        assert what in warning, f"{what!r} missing from the warning:\n{warning}"


def test_a_display_name_with_control_characters_is_kept_on_one_line(tmp_path):
    archive = _zip(tmp_path / "x.zip", ["eve\nxor,,,1004,mallory\x1b[2K_1003_9003_01_xor.ipynb"])
    found, _ = submissions.collect(archive)
    assert found["1003"].name == "eve xor,,,1004,mallory [2K"
    assert any("had control characters" in note for note in found["1003"].notes)


def test_a_file_name_cannot_pass_for_an_enforcement_warning():
    from jaxcourse.grading.out.summary import Report, Student, summarize

    real = "no memory cap: cannot set memory.max in /sys/fs/cgroup (No such file or directory)"
    spoof = f"{real}: larger than 50 MiB, not read"  # a note that starts with a student's file name
    students = {"ada": Student(score=12.0, notes=[real]), "eve": Student(score=12.0, notes=[real, spoof])}
    text = summarize(Report("01_xor", 12.0, [], students, ["ada", "eve"], [], "namespaces", 1, 1.0, Path("/c")))
    assert [line for line in text.splitlines() if "warning" in line] == [f"  warning: {real} (2 student(s): ada, eve)"]
    assert f"    eve: {spoof}" in text, "the file's note stays with its student"
