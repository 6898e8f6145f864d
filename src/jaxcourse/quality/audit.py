"""`jaxcourse audit`: do the hidden tests catch plausible wrong answers? (mutation analysis)

For each task, mutants of its solution (`jaxcourse.quality.mutation`) are graded through `jaxcourse
grade`, with every other task solved. A mutant is killed when its task loses points. Mutants of
tasks whose tests cannot see each other's answers share one submission (one notebook run tests
several tasks at once); a task whose tests or answer use another task's names is never graded
next to a mutant of that task. A mutant listed in `solutions/<assignment>/equivalent-mutants.txt`
(`task | description | why it is equivalent`) is reported apart, not hidden.

Each run is recorded (`tests/audit/<assignment>.json`) with a digest of what decides it (the
assignment's source folder, the mutation operators, the checks hidden tests call): CI checks that
the record is current and passes, and grades a sample of its mutants again (`agreement`).
"""

from __future__ import annotations

import ast
import hashlib
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from jaxcourse.course import assignments
from jaxcourse.grading import pipeline
from jaxcourse.grading.intake import submissions
from jaxcourse.quality import mutation

EQUIVALENTS = "equivalent-mutants.txt"
THRESHOLD = 0.9
CAP = 8  # mutants per task in `jaxcourse audit`, and the least a record counts with
RECORDS = Path("tests") / "audit"
FORMAT = "1"


@dataclass
class TaskAudit:
    task: str
    solution: str
    killed: list = field(default_factory=list)
    survived: list = field(default_factory=list)
    equivalent: list = field(default_factory=list)  # (mutant, reason)
    named: int = 0  # killed mutants whose feedback named a kept mistake (a figure, not a gate)

    @property
    def made(self) -> int:
        return len(self.killed) + len(self.survived) + len(self.equivalent)


@dataclass
class AuditReport:
    assignment: str
    tasks: list
    seconds: float
    runs: int

    @property
    def score(self) -> float:
        killed = sum(len(t.killed) for t in self.tasks)
        counted = killed + sum(len(t.survived) for t in self.tasks)
        return killed / counted if counted else 1.0

    @property
    def passed(self) -> bool:
        return self.score >= THRESHOLD

    def record(self, root: Path, cap: int | None) -> dict:
        """What `save` keeps: each mutant's verdict by its key, and the digest it holds for."""
        import jax

        return {"format": FORMAT, "inputs": inputs_digest(root, self.assignment), "assignment": self.assignment,
                "cap": cap, "score": self.score, "runs": self.runs, "seconds": round(self.seconds),
                "jax": jax.__version__, "table": self.table(),
                "tasks": {t.task: {"killed": [m.key for m in t.killed], "survived": [m.key for m in t.survived],
                                   "equivalent": [m.key for m, _ in t.equivalent], "named": t.named}
                          for t in self.tasks}}

    def table(self) -> str:
        lines = [f"{self.assignment}: {self.score:.0%} of non-equivalent mutants killed "
                 f"({'pass' if self.passed else 'FAIL'}: needs {THRESHOLD:.0%}); {self.runs} notebook runs "
                 f"in {self.seconds:.0f} s",
                 f"  {'task':<28} {'made':>5} {'killed':>7} {'survived':>9} {'equivalent':>11} "
                 f"{'named':>6}"]
        for t in self.tasks:
            lines.append(f"  {t.task:<28} {t.made:>5} {len(t.killed):>7} {len(t.survived):>9} "
                         f"{len(t.equivalent):>11} {t.named:>6}")
        for t in self.tasks:
            for mutant in t.survived:
                lines.append(f"  survived: {mutant.key} ({mutant.operator})")
                lines += ["    " + line for line in mutant.diff(t.solution).splitlines()]
            for mutant, reason in t.equivalent:
                lines.append(f"  equivalent: {mutant.key} - {reason}")
        return "\n".join(lines)


def equivalents(root: Path, name: str) -> dict[str, str]:
    path = root / assignments.SOURCE / name / EQUIVALENTS
    found = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                task, description, reason = (part.strip() for part in line.split("|", 2))
                found[f"{task} | {description}"] = reason
    return found


def _names(code: str, *, defined: bool) -> set[str]:
    try:
        tree = ast.parse(mutation.strip_markers(code))
    except SyntaxError:
        return set()
    if defined:
        found = set()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        return found
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def dependencies(answers: dict[str, str], tests: dict[str, str]) -> dict[str, set[str]]:
    """{task: the other tasks whose answer its answer or tests use, transitively}."""
    defined = {task: _names(code, defined=True) for task, code in answers.items()}
    direct = {}
    for task in answers:
        used = _names(answers[task], defined=False) | _names(tests.get(task, ""), defined=False)
        direct[task] = {other for other, names in defined.items() if other != task and names & used}
    closed = {}
    for task in answers:
        seen, todo = set(), list(direct[task])
        while todo:
            other = todo.pop()
            if other not in seen:
                seen.add(other)
                todo += direct[other]
        closed[task] = seen - {task}
    return closed


def rounds(by_task: dict[str, list], depends: dict[str, set[str]]) -> list[dict[str, object]]:
    """Group mutants into submissions: at most one per task, never two tasks that see each other."""
    queues = {task: list(items) for task, items in by_task.items()}
    grouped = []
    while any(queues.values()):
        chosen: dict[str, object] = {}
        for task, queue in queues.items():
            if queue and all(task not in depends[o] and o not in depends[task] for o in chosen):
                chosen[task] = queue.pop(0)
        grouped.append(chosen)
    return grouped


@dataclass
class Plan:
    """Mutant submissions for one grading run, and how to read their scores back."""

    name: str
    students: dict
    grouped: list  # per submission, {task: what its answer is}: a mutation.Mutant is judged here
    audits: dict
    tests: dict
    prefix: str = "mutants"

    def score(self, report, seconds: float) -> AuditReport:
        solution = report.students["solution"]
        if solution.score != report.max_score:
            raise assignments.CourseError(f"{self.name}: the solution scored {solution.score:g} of "
                                       f"{report.max_score:g} in the audit: {solution.notes}")
        for index, chosen in enumerate(self.grouped):
            record = report.students[f"{self.prefix}-{index:03d}"]
            for task, mutant in chosen.items():
                if not isinstance(mutant, mutation.Mutant):
                    continue
                lost = any(record.cells.get(cell, 0.0) < points for cell, points in self.tests[task].items())
                (self.audits[task].killed if lost else self.audits[task].survived).append(mutant)
                self.audits[task].named += lost and any(cell in record.named for cell in self.tests[task])
        return AuditReport(self.name, list(self.audits.values()), seconds, len(self.students) + 1)


def task_sources(root: Path, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """({task: its solution cell's source}, {task: its test cells' sources, joined})."""
    all_tasks = assignments.tasks(root, name)
    sources = [nbformat.read(p, as_version=4) for p in sorted(assignments.assignment_folder(root, name).glob("*.ipynb"))]
    cells = {c.metadata["nbgrader"]["grade_id"]: c for nb in sources for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade_id")}
    return ({t.grade_id: cells[t.grade_id].source for t in all_tasks},
            {t.grade_id: "\n".join(cells[c].source for c in t.tests) for t in all_tasks})


def in_rounds(root: Path, name: str, solved: dict, by_task: dict[str, list], code, prefix: str,
              depends: dict[str, set[str]]) -> tuple[dict, list[dict]]:
    """Submissions `<prefix>-NNN`, each the solution with one answer (`code(item)`) in each of
    several tasks that cannot see each other (`rounds`); and, per submission, {task: item}."""
    grouped = rounds(by_task, depends)
    return submissions_of(root, name, solved, grouped, code, prefix), grouped


def submissions_of(root: Path, name: str, solved: dict, grouped: list[dict], code, prefix: str) -> dict:
    """{`<prefix>-NNN`: the solution with each of `grouped[NNN]`'s answers (`code(item)`) in its task}."""
    by_id = {t.grade_id: t for t in assignments.tasks(root, name)}
    students = {}
    for index, chosen in enumerate(grouped):
        notebooks = dict(solved)
        for task, item in chosen.items():
            notebook = by_id[task].notebook
            notebooks[notebook] = assignments.with_answer(notebooks[notebook], task, code(item))
        students[f"{prefix}-{index:03d}"] = notebooks
    return students


def candidates(root: Path, name: str, cap: int | None = CAP) -> tuple[dict[str, TaskAudit], dict[str, list]]:
    """({task: its audit, listed equivalents filled in}, {task: the mutants to grade})."""
    answers, _ = task_sources(root, name)
    known = equivalents(root, name)
    audits, found = {}, {}
    for task in assignments.tasks(root, name):
        audits[task.grade_id] = TaskAudit(task.grade_id, mutation.normalized(answers[task.grade_id]))
        for mutant in mutation.select(mutation.mutants(task.grade_id, answers[task.grade_id]), cap):
            if mutant.key in known:
                audits[task.grade_id].equivalent.append((mutant, known[mutant.key]))
            else:
                found.setdefault(task.grade_id, []).append(mutant)
    return audits, found


def fill(grouped: list[dict], found: dict[str, list], depends: dict[str, set[str]]) -> int:
    """Put mutants into submissions already planned, where a submission holds no answer for their
    task and none of a task they see (one a task and submission, in order); return how many."""
    queues = {task: list(mutants) for task, mutants in found.items()}
    placed = 0
    for chosen in grouped:
        for task, queue in queues.items():
            if queue and task not in chosen and all(task not in depends[o] and o not in depends[task] for o in chosen):
                chosen[task] = queue.pop(0)
                placed += 1
    return placed


def plan(root: Path, name: str, solved: dict, *, cap: int | None = CAP) -> Plan:
    """Submissions `mutants-NNN`, each the solution with one mutant in one or more tasks."""
    answers, tests = task_sources(root, name)
    audits, found = candidates(root, name, cap)
    students, grouped = in_rounds(root, name, solved, found, lambda mutant: mutant.code, "mutants",
                                  dependencies(answers, tests))
    return Plan(name, students, grouped, audits, {t.grade_id: t.tests for t in assignments.tasks(root, name)})


def audit(root: Path, name: str, *, cap: int | None = CAP, env: dict | None = None, workers: int | None = None,
          scheduler: str | None = None, progress: bool = False) -> AuditReport:
    start = time.monotonic()
    source_folder = assignments.assignment_folder(root, name)
    # exercises/ is checked against solutions/ elsewhere (check-release, validate)
    solved = {p.name: assignments.solved(p, root / assignments.RELEASE / name / p.name)
              for p in sorted(source_folder.glob("*.ipynb"))}
    mutants = plan(root, name, solved, cap=cap)
    with tempfile.TemporaryDirectory(prefix="jc-audit-") as tmp:
        folder = submissions.write_class(Path(tmp) / "class", {"solution": solved, **mutants.students})
        report = pipeline.grade(root, name, folder, course=Path(tmp) / "grading", env=dict(env or {}),
                              workers=workers, scheduler=scheduler, progress=progress, feedback=False)
    return mutants.score(report, time.monotonic() - start)


def record_path(root: Path, name: str) -> Path:
    return root / RECORDS / f"{name}.json"


def inputs_digest(root: Path, name: str) -> str:
    """What decides an audit: the assignment's source folder (solutions, hidden tests, listed
    equivalents), the mutation operators and the checks the tests call. The grader is not in it:
    the sample CI grades again (`agreement`) and validate's round trips check that."""
    from jaxcourse import checks

    h = hashlib.sha256(FORMAT.encode())
    folder = root / assignments.SOURCE / name
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()
             and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts]
    for path in files:
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    for module in (mutation, checks):
        h.update(Path(module.__file__).name.encode() + b"\0" + Path(module.__file__).read_bytes())
    return h.hexdigest()


def save(root: Path, report: AuditReport, cap: int | None) -> Path:
    path = record_path(root, report.assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.record(root, cap), indent=1, sort_keys=True) + "\n")
    return path


def recorded(root: Path, name: str) -> tuple[dict, list[str]]:
    """The assignment's audit record, and what is wrong with it: missing, stale, made with fewer
    than `CAP` mutants a task, or below the threshold."""
    path = record_path(root, name)
    redo = f"run `jaxcourse audit {name}` (about a minute on 2 cores) and commit {path.relative_to(root)}"
    if not path.is_file():
        return {}, [f"{name}: no audit record: {redo}"]
    record = json.loads(path.read_text())
    problems = []
    if record.get("format") != FORMAT or record.get("inputs") != inputs_digest(root, name):
        problems.append(f"{name}: the audit record is stale (its solutions, hidden tests, the mutation "
                        f"operators or the checks changed since): {redo}")
    if record.get("cap") is not None and record.get("cap", 0) < CAP:
        problems.append(f"{name}: the audit record made {record.get('cap')} mutants a task, fewer than {CAP}: {redo}")
    if record.get("score", 0.0) < THRESHOLD:
        problems.append(f"{name}: the audit killed {record.get('score', 0.0):.0%} of its mutants, "
                        f"below {THRESHOLD:.0%}: strengthen the hidden tests (its record lists the survivors)")
    return record, problems


def agreement(record: dict, sample: AuditReport) -> list[str]:
    """Each mutant graded again must get the verdict its record gives it."""
    verdicts = {key: verdict for task in record.get("tasks", {}).values()
                for verdict in ("killed", "survived", "equivalent") for key in task.get(verdict, [])}
    found = []
    for task in sample.tasks:
        for verdict, mutants in (("killed", task.killed), ("survived", task.survived),
                                 ("equivalent", [m for m, _ in task.equivalent])):
            for mutant in mutants:
                before = verdicts.get(mutant.key)
                if before != verdict:
                    found.append(f"{mutant.key}: {verdict} now, {before or 'not made'} in the record")
    return found
