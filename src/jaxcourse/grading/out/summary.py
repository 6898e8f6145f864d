"""What a grading run reports: each student's record, and the summary printed and kept."""

from __future__ import annotations

import statistics
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from jaxcourse.grading.sandbox.settings import ENFORCEMENT_GAP

NOT_SUBMITTED = "not submitted (no notebook)"
# What kernels without namespaces are not stopped from (the hostile cases that show each, as
# expected there: tests/grading/hostile_cases.py); root's cgroups still cap memory and processes.
UNCONFINED = [
    "    - reading or writing any file this user can: the course, the gradebook, the hidden tests "
    "(reads-hidden-tests, writes-gradebook), and planting symlinks outside its own folder",
    "    - reaching the network (network), and other processes through IPC: SysV shared memory, "
    "semaphores, queues (sysv-ipc)",
    "    - filling the disk (disk-filler); without root, also leaving detached processes running after "
    "grading (escaped-process), and starting processes and threads or taking memory without a cap "
    "(thread-bomb, memory-blowup)",
    "    grade untrusted work as root on Linux with `unshare`; see README, 'Isolation'",
]


@dataclass
class Student:
    """What the summary and the state file keep about one student."""

    digest: str = ""
    score: float = 0.0
    cells: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    zero_reason: str = ""
    seconds: float = 0.0
    cell_seconds: float = 0.0  # of `seconds`, what the cells themselves took
    name: str = ""
    email: str = ""
    roster: str = ""  # "on" the roster, "off" it (flagged), "" when no roster was given
    submitted_at: str = ""
    late_days: int = 0
    penalty: float = 0.0  # points the late policy takes off `score`
    file_id: str = ""  # Canvas's attachment id of the submission, for feedback sent back
    named: dict = field(default_factory=dict)  # test cell: the kept mistake its task's answer behaves like
    lost: dict = field(default_factory=dict)  # task that lost points: `behaviour.key` of how it behaved
    behaviours: dict = field(default_factory=dict)  # task that lost points: its behaviour (`keep_behaviour` only)
    visible_checks: dict = field(default_factory=dict)  # task: its failed visible checks (`keep_behaviour` only)


NOT_ON_ROSTER = "submitted, but not on the roster"


@dataclass
class Report:
    assignment: str
    max_score: float
    tasks: list
    students: dict
    graded: list
    orphans: list
    isolation: str
    workers: int
    seconds: float
    course: Path
    policy: str = ""  # the late policy in words, "" for none
    warnings: list = field(default_factory=list)  # about the run itself: a stall, students not graded

    def summary(self) -> str:
        return summarize(self)


def task_scores(report: Report) -> dict[str, dict[str, float]]:
    """{task grade_id: {student: points}} for every student with a score."""
    table: dict[str, dict[str, float]] = {}
    for task in report.tasks:
        for student, record in report.students.items():
            table.setdefault(task.grade_id, {})[student] = sum(record.cells.get(c, 0.0) for c in task.tests)
    return table


def printable(text: str) -> str:
    """`text` on one line: control and format characters (newlines, escapes) written as \\uXXXX,
    so that a file or student name cannot forge a line of the summary."""
    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
                   for ch in str(text))


def label(student: str, record: Student) -> str:
    """`12345 (Jane Doe)`: the id is what the LMS knows, the name what people read."""
    return printable(f"{student} ({record.name})" if record.name and record.name != student else student)


def summarize(report: Report) -> str:
    lines = [f"{report.assignment}: {len(report.students)} students, {len(report.graded)} graded now in "
             f"{report.seconds:.1f} s ({report.workers} workers, isolation: {report.isolation}); "
             f"out of {report.max_score:g} points"]
    if report.isolation == "user":
        lines += ["  warning: no namespaces (root without the privileges for them, as in a container): each kernel "
                  "ran as a user of its own, which kept it from the grader, the course and other kernels, but not "
                  "from the network, IPC, or files any user may read (see README, 'Isolation')"]
    elif report.isolation != "namespaces":
        lines += ["  warning: student code ran as this user, without namespaces (not root, or no `unshare`): "
                  "only the time and output limits held; nothing stopped it from", *UNCONFINED]
    lines += [f"  warning: {printable(w)}" for w in report.warnings]
    gaps: dict[str, list[str]] = {}  # what could not be enforced on this machine: said once, up here
    for student, record in report.students.items():
        for note in record.notes:
            if ENFORCEMENT_GAP.fullmatch(note):
                gaps.setdefault(note, []).append(label(student, record))
    for note, who in gaps.items():
        lines.append(f"  warning: {printable(note)} ({len(who)} student(s): {', '.join(who[:5])}"
                     f"{', ...' if len(who) > 5 else ''})")
    scores = [r.score for r in report.students.values()]
    if scores:
        spread = statistics.pstdev(scores) if len(scores) > 1 else 0.0
        lines.append(f"  total: mean {statistics.mean(scores):.2f}, sd {spread:.2f}, "
                     f"min {min(scores):g}, max {max(scores):g}")
        lines.append(f"  {'task':<28} {'points':>6} {'mean':>6} {'sd':>6} {'full':>5} {'zero':>5}")
        for task in report.tasks:
            values = list(task_scores(report)[task.grade_id].values())
            lines.append(f"  {task.grade_id:<28} {task.points:>6g} {statistics.mean(values):>6.2f} "
                         f"{statistics.pstdev(values):>6.2f} {sum(v >= task.points for v in values):>5} "
                         f"{sum(v == 0 for v in values):>5}")
    zeros = {s: r for s, r in report.students.items() if r.score == 0}
    if zeros:
        lines.append("  scored zero:")
        for student, record in zeros.items():
            why = record.zero_reason or (record.notes[0] if record.notes else "every test failed")
            lines.append(f"    {label(student, record)}: {printable(why)}")
    if report.policy:
        lines.append(f"  late policy: {report.policy}")
    late = {s: r for s, r in report.students.items() if r.late_days}
    for student, record in late.items():
        lines.append(f"    late: {label(student, record)}: {record.late_days} day(s) (submitted "
                     f"{record.submitted_at or 'unknown'}), -{record.penalty:g} points")
    strangers = [label(s, r) for s, r in report.students.items() if r.roster == "off"]
    if strangers:
        lines.append(f"  not on the roster (graded, kept, not exported to the LMS): {', '.join(strangers)}")
    flagged = {s: [n for n in r.notes if n not in r.zero_reason and n not in gaps] for s, r in report.students.items()}
    flagged = {s: notes for s, notes in flagged.items() if notes}
    if flagged:
        lines.append("  notes (also in each student's feedback):")
        for student, notes in flagged.items():
            for note in notes:
                lines.append(f"    {label(student, report.students[student])}: {printable(note)}")
    if report.orphans:
        lines.append(f"  files with no student id (pattern did not match): {', '.join(printable(o) for o in report.orphans[:10])}")
    before_penalty = " (nbgrader's export, before late penalties: `jaxcourse export` applies them)"
    lines.append(f"  grades: {report.course / 'grades.csv'}{before_penalty if report.policy else ''}")
    lines.append(f"  feedback: {report.course / 'feedback'}/<student>/{report.assignment}/")
    return "\n".join(lines)
