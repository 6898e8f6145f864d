"""How an answer behaves on a task's tests, and which kept mistake it behaves like.

What an answer does is what crosses from the student's kernel to the test kernel (plain data,
`wire`) and how each test part ends. `items` turns the answers a test part received into a
comparable form: an error's type and message (its words, and its numbers to compare within the
tolerance), or a value's structure and numbers. Two answers behave alike
on a task when every one of its test parts ends the same way after the same answers, numbers
within a tolerance. The kept mistakes' behaviour is recorded once per assignment by grading them
(`jaxcourse mistakes`, `behaviour.json` next to them); a student's answer that lost a task's
points and behaves like exactly one of that task's mistakes gets its `why` in the feedback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import numpy as np

from jaxcourse.checks import mistake_sentence

FORMAT = "4"  # of the recorded behaviour: a change makes every recording stale
MAX_NUMBERS = 256  # of one answer, compared one by one; the rest by their count and sum
MIN_NUMBERS = 2  # a match needs at least this many numbers, not all equal: never one shared scalar
MIN_ARRAY = 4  # ... or this many, all equal
MIN_WORDS = 6  # ... or an error whose message has this many words
RTOL, ATOL = 1e-4, 1e-6
RECORDING = "behaviour.json"
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
# in an error's message, what differs between runs of one answer: paths, addresses, cell numbers
RUN_SPECIFIC = re.compile(r"\S*/\S*|0x[0-9a-fA-F]+|In\[\d+\]|\bline \d+|\bid=\d+")


def _numbers(value, numbers: list, tags: list, depth: int = 0) -> None:
    if depth > 64:
        tags.append("deep")
        return
    if isinstance(value, bool):  # a yes or no answers count as numbers: many of them tell answers apart
        tags.append("bool")
        numbers.append(float(value))
    elif isinstance(value, int | float):
        numbers.append(float(value))
    elif isinstance(value, str):  # its kind only: text often holds what differs between runs (a path)
        tags.append("str")
    elif value is None:
        tags.append("None")
    elif isinstance(value, list):
        for item in value:
            _numbers(item, numbers, tags, depth + 1)
    elif isinstance(value, dict) and len(value) == 1:
        tag, body = next(iter(value.items()))
        if tag == "$a" and isinstance(body, list) and len(body) >= 3:
            dtype, shape, data = body[0], body[1], body[2]
            tags.append(f"array:{dtype}:{shape}")
            try:
                raw = np.frombuffer(base64.b64decode(data), dtype=np.dtype(dtype)).astype(np.float64)
                numbers.extend(raw.ravel().tolist())
            except (TypeError, ValueError):  # bfloat16 and the like: their count only
                tags.append(f"bytes:{len(data)}")
        elif tag in ("$t", "$d", "$k"):
            tags.append(tag)
            _numbers(body, numbers, tags, depth + 1)
        elif tag == "$r":
            tags.append(f"ref:{body[1] if isinstance(body, list) and len(body) > 1 else ''}")
        elif tag == "$b":
            tags.append("bytes")
        else:
            tags.append(f"tag:{tag}")
    else:
        tags.append(type(value).__name__)


def item(answer: str) -> list | None:
    """One answer (JSON text from the student's kernel) as [kind, tags, count, sum, numbers], or
    None for a name lookup (which says only what kind of thing a name is)."""
    try:
        data = json.loads(answer)
    except (TypeError, ValueError, RecursionError):
        return ["unreadable", [], 0, 0.0, []]
    if not isinstance(data, dict) or "described" in data:
        return None
    if "error" in data:
        error = data["error"] if isinstance(data["error"], list) else []
        kind, message = (error + ["?", ""])[:2] if error else ("?", "")
        message = RUN_SPECIFIC.sub(" ", str(message)[:2000])
        numbers = [float(n) for n in NUMBER.findall(message)][:MAX_NUMBERS]
        template = " ".join(NUMBER.sub("#", message).split())[:300]
        return ["error", [str(kind)[:100], template], len(numbers), float(np.sum(numbers)) if numbers else 0.0, numbers]
    numbers: list = []
    tags: list = []
    _numbers(data.get("value"), numbers, tags)
    finite = [x for x in numbers if np.isfinite(x)]
    return ["value", tags[:64], len(numbers), float(np.sum(finite)) if finite else 0.0, numbers[:MAX_NUMBERS]]


def items(answers: list[str]) -> list:
    return [i for i in (item(a) for a in answers) if i is not None]


def _close(a: list, b: list) -> bool:
    if len(a) != len(b):
        return False
    return bool(np.allclose(np.array(a, dtype=np.float64), np.array(b, dtype=np.float64), rtol=RTOL, atol=ATOL,
                            equal_nan=True))


def _same_item(a: list, b: list) -> bool:
    if a[0] != b[0] or a[1] != b[1] or a[2] != b[2]:
        return False
    return _close(a[4], b[4]) and _close([a[3]], [b[3]])


def same(a: list, b: list) -> bool:
    """Two task behaviours ([[status, items], ...] over its test parts) alike."""
    if len(a) != len(b):
        return False
    for (status_a, items_a), (status_b, items_b) in zip(a, b):
        if status_a != status_b or len(items_a) != len(items_b):
            return False
        if not all(_same_item(x, y) for x, y in zip(items_a, items_b)):
            return False
    return True


def informative(behaviour: list) -> bool:
    """Enough to tell answers apart: two different numbers, or an array's worth (MIN_ARRAY) of one
    value, as a box filter that forgot to divide gives, or an error with a message of its own
    (MIN_WORDS), as JAX's "Gradient only defined for scalar-output functions"; never one scalar."""
    numbers = [x for _, parts in behaviour for i in parts for x in i[4]]
    distinct = len({round(x, 6) for x in numbers if np.isfinite(x)})
    if len(numbers) >= MIN_NUMBERS and (distinct >= 2 or len(numbers) >= MIN_ARRAY):
        return True
    return any(i[0] == "error" and len(i[1]) > 1 and len(i[1][1].split()) >= MIN_WORDS for _, parts in behaviour
               for i in parts)


def of_task(run_results: list, tests: list[str]) -> list:
    """A task's behaviour from a Run's results: every part of its test cells, in order."""
    parts = []
    for result in run_results:
        if result.cell in tests:
            for outcome in (result.visible, result.hidden):
                if outcome is not None:
                    parts.append([outcome.status, outcome.answers])
    return parts


def named_mistake(behaviour: list, recorded: dict, task: str) -> dict | None:
    """The one kept mistake of `task` that `behaviour` is alike to, or None (no match, or more
    than one: never a guess)."""
    if not informative(behaviour):
        return None
    alike = [m for m in recorded.get("mistakes", {}).values() if m["task"] == task and same(behaviour, m["behaviour"])]
    return alike[0] if len(alike) == 1 else None


def source_digest(root: Path, name: str) -> str:
    """What a recording depends on: the assignment's source, its kept mistakes, this format."""
    from jaxcourse.course import assignments

    h = hashlib.sha256(FORMAT.encode())
    folders = [root / assignments.SOURCE / name, root / assignments.MISTAKES / name]
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != RECORDING
                           and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts):
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def load(root: Path, name: str) -> dict:
    """The recorded behaviour of an assignment's kept mistakes, if it is current; {} otherwise."""
    from jaxcourse.course import assignments

    path = root / assignments.MISTAKES / name / RECORDING
    if not path.is_file():
        return {}
    recorded = json.loads(path.read_text())
    return recorded if recorded.get("source") == source_digest(root, name) else {}


def named_in_run(run, tasks: list, recorded: dict) -> dict[str, dict]:
    """{test cell: kept mistake} for every task of this notebook that lost points and behaves
    like exactly one of its kept mistakes; the cell is the task's last test cell."""
    named = {}
    if not recorded:
        return named
    passed = {r.cell: r.passed for r in run.results if r.kind == "test"}
    for task in tasks:
        if not task.tests or not any(c in passed for c in task.tests) or all(passed.get(c) for c in task.tests):
            continue
        mistake = named_mistake(of_task(run.results, list(task.tests)), recorded, task.grade_id)
        if mistake is not None:
            named[list(task.tests)[-1]] = mistake
    return named


def sentence(mistake: dict) -> str:
    """What the feedback says of a named mistake: its `why`, and where the idea is taught (the
    words a notebook uses before submitting, `checks.mistake_sentence`)."""
    return mistake_sentence(mistake["why"], mistake.get("see") or "")


def key(behaviour: list) -> str:
    """A short name for a behaviour, equal for answers that behave alike up to rounding: what the
    report groups unnamed failures by."""
    rounded = [[status, [[i[0], i[1], i[2], [float(f"{x:.4g}") for x in i[4]]] for i in parts]]
               for status, parts in behaviour]
    return hashlib.sha256(json.dumps(rounded).encode()).hexdigest()[:16]


def lost_tasks(run, tasks: list) -> dict[str, list]:
    """{task: behaviour} of every task of this notebook whose tests did not all pass."""
    passed = {r.cell: r.passed for r in run.results if r.kind == "test"}
    return {t.grade_id: of_task(run.results, list(t.tests)) for t in tasks
            if t.tests and any(c in passed for c in t.tests) and not all(passed.get(c) for c in t.tests)}


def visible_checks(run, tasks: list) -> dict[str, list]:
    """{task: [[check, kind, count, numbers], ...]} of every task of this notebook whose visible
    tests failed at a check: what the student's notebook can compare before submitting."""
    found: dict[str, list] = {}
    for task in tasks:
        for result in run.results:
            if result.cell in task.tests and result.visible is not None and result.visible.check:
                found.setdefault(task.grade_id, []).append(result.visible.check)
    return found


def stale(root: Path, names: list[str]) -> list[str]:
    """Assignments whose recording is missing or older than their source or kept mistakes."""
    from jaxcourse.course import assignments

    found = []
    for name in names:
        if not assignments.mistakes(root, name):
            continue
        path = root / assignments.MISTAKES / name / RECORDING
        if not path.is_file() or json.loads(path.read_text()).get("source") != source_digest(root, name):
            found.append(f"{path.relative_to(root)} is missing or stale: run `make mistakes` and commit it")
    return found
