"""Every assignment is gradeable through real nbgrader, and exercises/ is what solutions/ generates."""

from pathlib import Path

import pytest

from jaxcourse import runtime
from jaxcourse.course import assignments
from jaxcourse.quality import validate

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = assignments.assignment_names(ROOT)
# Assignments that must grade the same on 1 and on 8 simulated CPU devices.
# 07 and 12 ask for 8 simulated CPU devices themselves (their set-up cells), so every round trip of them runs on 8
MULTI_DEVICE = ["08_prng"]


def _failures(checks):
    return "\n".join(f"{c.submission}: expected {c.expected:g}, got {c.got:g} ({c.detail})"
                     for c in checks if not c.ok)


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_assignment_round_trip_and_mutation_audit(name):
    """Committed release up to date; solution full marks (plain nbgrader too), release zero, each
    mistake its task; the recorded audit (`make audit`, up to 8 mutants a task) current and >= 90%,
    and the mutants that fit beside the kept answers, graded again in the same run, agreeing."""
    checks = validate.validate(ROOT, name, audit_sample=True)
    audit = next(c for c in checks if c.submission == "audit")
    print(audit.detail)
    assert not _failures(checks), _failures(checks)
    assert len(checks) >= 5 + 5, f"{name}: expected at least 5 tasks, each with a kept mistake"


@pytest.mark.slow
@pytest.mark.parametrize("name", MULTI_DEVICE)
def test_multi_device_assignment_round_trip_on_8_devices(name):
    checks = validate.validate(ROOT, name, env={"XLA_FLAGS": runtime.xla_flags_with_cpu_devices(8, "")},
                              plain=False)
    assert not _failures(checks), _failures(checks)




@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_each_kept_answer_is_graded_once_in_fewer_notebooks_than_answers(name):
    """(Which tasks may share a notebook is `audit.rounds`' business: tests/quality/test_mutation.py.)"""
    from jaxcourse.course import assignments

    students, grouped = validate._kept_in_rounds(ROOT, name, assignments.solved_assignment(ROOT, name))
    held = sorted(answer.path.name for chosen in grouped for answer in chosen.values())
    kept = sorted(a.path.name for a in [*assignments.mistakes(ROOT, name), *assignments.forged(ROOT, name)])
    assert held == kept, "each kept and forged answer in exactly one submission"
    assert len(students) == len(grouped) < len(kept), "kept answers of different tasks share notebooks"
