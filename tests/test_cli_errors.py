"""Every user error the CLI can meet ends in one line on stderr and exit 2, never a traceback.

Each case fails before any kernel starts (nothing is graded), and a course folder that already
holds a summary keeps it as it was.
"""

import subprocess
import zipfile
from pathlib import Path

import pytest

from jaxcourse import cli

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = "01_xor: the previous run's summary\n"


def _inputs(tmp: Path) -> dict[str, Path]:
    with zipfile.ZipFile(tmp / "empty.zip", "w"):
        pass
    with zipfile.ZipFile(tmp / "no-notebook.zip", "w") as zipped:
        zipped.writestr("doejane_1001_9001_report.pdf", "%PDF")
    with zipfile.ZipFile(tmp / "ok.zip", "w") as zipped:
        zipped.writestr("doejane_1001_9001_01_xor.ipynb", "{}")
    (tmp / "bad-roster.csv").write_text("name,score\nada,1\n")
    with zipfile.ZipFile(tmp / "crc.zip", "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("doejane_1001_9001_01_xor.ipynb", '{"cells": []}')
    data = bytearray((tmp / "crc.zip").read_bytes())
    data[data.index(b'{"cells"') + 3] ^= 0xFF  # the notebook's bytes no longer match their checksum
    (tmp / "crc.zip").write_bytes(bytes(data))
    (tmp / "damaged.zip").write_bytes(bytes(data).replace(b"PK\x01\x02", b"PK\x00\x00"))  # central directory
    return {"empty": tmp / "empty.zip", "none": tmp / "no-notebook.zip", "ok": tmp / "ok.zip",
            "roster": tmp / "bad-roster.csv", "crc": tmp / "crc.zip", "damaged": tmp / "damaged.zip"}


# (what, argv with {placeholders}, a phrase stderr must contain, run outside the course)
CASES = [
    ("unknown assignment", ["grade", "nope", "{ok}"], "known: 01_xor", False),
    ("unknown assignment to record", ["mistakes", "nope"], "known: 01_xor", False),
    ("missing submissions", ["grade", "01_xor", "{tmp}/nowhere.zip"], "does not exist", False),
    ("empty zip", ["grade", "01_xor", "{empty}"], "no notebook", False),
    ("zip without a notebook", ["grade", "01_xor", "{none}"], "no notebook", False),
    ("bad regex", ["grade", "01_xor", "{ok}", "--pattern", "("], "not a valid regex", False),
    ("pattern without student", ["grade", "01_xor", "{ok}", "--pattern", "^(?P<file>.+)$"], "(?P<student>", False),
    ("workers 0", ["grade", "01_xor", "{ok}", "--workers", "0"], "--workers 0", False),
    ("bad due date", ["grade", "01_xor", "{ok}", "--due", "friday"], "not a date", False),
    ("penalty without due", ["grade", "01_xor", "{ok}", "--late-penalty", "10"], "need --due", False),
    ("unknown roster", ["grade", "01_xor", "{ok}", "--roster", "{roster}"], "not a roster", False),
    ("missing roster", ["grade", "01_xor", "{ok}", "--roster", "{tmp}/none.csv"], "does not exist", False),
    ("grade outside a course", ["grade", "01_xor", "{ok}"], "no course", True),
    ("report outside a course", ["report", "01_xor"], "no course", True),
    ("export outside a course", ["export", "01_xor", "--format", "csv"], "no course", True),
    ("release outside a course", ["release"], "no course", True),
    *[(f"{argv[0]} outside a course", argv, "no course", True) for argv in (
        ["forget", "01_xor", "ghost"], ["audit", "01_xor"], ["validate", "01_xor"], ["check-release"],
        ["transcription"], ["badges"], ["normalize"], ["book"], ["bench", "grading"])],
    ("run-notebooks with nothing to run", ["run-notebooks"], "no notebooks to run", True),
    ("damaged zip", ["grade", "01_xor", "{damaged}"], "a damaged zip", False),
    ("only a damaged notebook", ["grade", "01_xor", "{crc}"], "no readable notebook", False),
    ("due none with a penalty", ["grade", "01_xor", "{ok}", "--due", "none", "--late-penalty", "5"], "need --due",
     False),
    ("export before grading", ["export", "01_xor", "--format", "csv"], "run `jaxcourse grade` first", False),
    ("export unknown assignment", ["export", "nope", "--format", "csv"], "known: 01_xor", False),
    ("report before grading", ["report", "01_xor"], "run `jaxcourse grade` first", False),
    ("forget unknown student", ["forget", "01_xor", "ghost"], "no student ghost", False),
]


@pytest.mark.parametrize("what, argv, phrase, outside", CASES, ids=[c[0] for c in CASES])
def test_user_errors_are_one_line(tmp_path, monkeypatch, capsys, what, argv, phrase, outside):
    paths = _inputs(tmp_path)
    course = tmp_path / "course"
    course.mkdir()
    (course / "summary-01_xor.txt").write_text(SUMMARY)
    args = [a.format(tmp=tmp_path, **paths) for a in argv]
    if argv[0] in ("grade", "report", "export", "forget"):
        args += ["--course-dir", str(course)]
    monkeypatch.chdir(tmp_path if outside else ROOT)
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == 2, f"{what}: exit {code}, stderr {err!r}"
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert phrase in err, err
    assert (course / "summary-01_xor.txt").read_text() == SUMMARY, "the previous summary is kept"


def test_the_installed_command_answers_the_same_way(tmp_path):
    done = subprocess.run(["jaxcourse", "grade", "01_xor", str(tmp_path / "nowhere.zip"), "--course-dir",
                           str(tmp_path / "course")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {tmp_path / 'nowhere.zip'} does not exist"]


def _subcommands() -> list[str]:
    import argparse

    actions = [a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(actions[0].choices)


@pytest.mark.parametrize("command", _subcommands())
def test_every_subcommand_help_has_a_description_and_defaults(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    description = out.split("\n\n")[1].strip()
    assert description and "\n" not in description, out
    if "--course-dir" in out:
        assert "(default: grading)" in " ".join(out.split())


def test_make_help_lists_the_targets():
    done = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for target in ("grade", "export", "report", "test", "lint"):
        assert any(line.split()[0] == target for line in done.stdout.splitlines() if line.strip()), done.stdout
