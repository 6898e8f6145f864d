"""`jaxcourse grade`: from a pile of submissions to grades.csv, feedback and a summary.

The host process (this one) is the only one that writes grades. It keeps an nbgrader course in
`grading/` (source, gradebook, submitted/, autograded/, feedback/), rebuilds each student's
notebook from the trusted source (`jaxcourse.submissions`), and hands one job per student to
Dask workers, which run it in a sandboxed kernel (`jaxcourse.sandbox`) and send back what
happened. A student is graded again only when their files, the source or the settings change.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath

import nbformat

from jaxcourse import grading, sandbox, submissions

PIPELINE = "1"
STATE = ".jaxcourse"
NOT_SUBMITTED = "not submitted (no notebook)"
CONFIG = """\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "equivalent-mutants.txt"]
"""


@dataclass
class Student:
    """What the summary and the state file keep about one student."""

    digest: str = ""
    score: float = 0.0
    cells: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    zero_reason: str = ""
    seconds: float = 0.0


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

    def summary(self) -> str:
        return summarize(self)


# --- the nbgrader course the grader keeps ------------------------------------------------------


def _tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def prepare(root: Path, assignment: str, course: Path) -> str:
    """Copy the assignment's source into `course` and (re)generate it there; return its hash."""
    source = root / grading.SOURCE / assignment
    if not source.is_dir():
        raise grading.GradingError(f"no assignment {assignment!r} in {root / grading.SOURCE}")
    course.mkdir(parents=True, exist_ok=True)
    os.chmod(course, 0o700)
    (course / STATE).mkdir(exist_ok=True)
    (course / "nbgrader_config.py").write_text(CONFIG.format(course_id=root.name))
    digest = _tree_hash(source)
    target = course / "source" / assignment
    if target.is_dir() and _tree_hash(target) == digest and (course / "gradebook.db").is_file():
        return digest
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    grading.nbgrader(["generate_assignment", assignment, "--force"], course)
    return digest


def _load_state(course: Path, assignment: str) -> dict:
    path = course / STATE / f"{assignment}.json"
    return json.loads(path.read_text()) if path.is_file() else {"students": {}}


def _save_state(course: Path, assignment: str, state: dict) -> None:
    path = course / STATE / f"{assignment}.json"
    path.write_text(json.dumps(state, indent=1, sort_keys=True))


def _safe_relative(name: str) -> Path | None:
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".", "..", "/")]
    return Path(*[submissions.safe_id(p) for p in parts]) if parts else None


def _keep_submitted(course: Path, assignment: str, sub: submissions.Submission) -> None:
    folder = course / "submitted" / sub.student / assignment
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in sub.files.items():
        relative = _safe_relative(name)
        if relative is not None:
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(data)


# --- one job per student and notebook ----------------------------------------------------------


@dataclass
class Job:
    student: str
    notebook: str
    steps: list
    box: sandbox.Sandbox


def _run_job_here(job: Job) -> dict:
    parent = Path(tempfile.mkdtemp(prefix="jc-"))
    try:
        os.chmod(parent, 0o700)
        workdir = parent / "w"
        workdir.mkdir()
        run = sandbox.run_steps(job.steps, job.box, workdir)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    return run.to_dict()


def run_job(job: Job) -> dict:
    """Runs on a Dask worker: the student's steps in a fresh sandboxed kernel."""
    # jupyter_client's blocking client refuses threads that run an event loop, as Dask's may.
    outcome: dict = {}

    def target():
        try:
            outcome["run"] = _run_job_here(job)
        except BaseException as err:
            outcome["error"] = err

    thread = threading.Thread(target=target, name=f"grade-{job.student}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["run"]


def _run_all(jobs: list[Job], workers: int, scheduler: str | None, progress: bool):
    """Yield (job, Run or exception) as workers finish them."""
    import logging

    from distributed import Client, LocalCluster, as_completed

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        # Threads are enough: the work happens in the kernels they start.
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                               dashboard_address=None)
        client = Client(cluster)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="grading", unit="notebook")
    try:
        futures = {client.submit(run_job, job, pure=False, key=f"grade-{job.student}-{job.notebook}-{i}"): job
                   for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            job = futures[future]
            try:
                yield job, sandbox.Run.from_dict(future.result())
            except Exception as err:  # a worker lost, a bug: that student only
                yield job, err
            if bar is not None:
                bar.set_postfix_str(job.student[:20])
                bar.update()
    finally:
        if bar is not None:
            bar.close()
        client.close()
        if cluster is not None:
            cluster.close()


# --- writing results (host only) ---------------------------------------------------------------


def _hidden_output(outcome: sandbox.Outcome) -> dict:
    kind = outcome.error.split(":")[0] if outcome.error else outcome.status
    return {"output_type": "error", "ename": kind,
            "evalue": "a hidden test failed; the grader does not show its code or message", "traceback": []}


def _status_output(outcome: sandbox.Outcome) -> dict:
    return {"output_type": "stream", "name": "stderr", "text": f"[grader] {outcome.error}\n"}


def _describe_changes(cell: str, changes: list[str]) -> list[str]:
    config = [c.split(":", 1)[1] for c in changes if c.startswith("config:")]
    threads = [c.split(":", 1)[1] for c in changes if c.startswith("thread:")]
    patched = [c for c in changes if not c.startswith(("config:", "thread:"))]
    notes = []
    if config:
        notes.append(f"before {cell}: JAX configuration reset ({', '.join(config)})")
    if patched:
        notes.append(f"before {cell}: put back what student code replaced ({', '.join(patched[:6])}"
                     f"{' ...' if len(patched) > 6 else ''}) - review")
    if threads:
        notes.append(f"before {cell}: student code left threads running ({', '.join(threads)}) - review")
    return notes


def autograded_notebook(source: nbformat.NotebookNode, plan: submissions.Plan, run: sandbox.Run | None,
                        notes: list[str], show_hidden: bool = False) -> nbformat.NotebookNode:
    """What the student sees in feedback: hidden tests' code and messages only with `show_hidden`."""
    notebook = nbformat.v4.new_notebook(metadata=json.loads(json.dumps(source.metadata)))
    cells = [nbformat.from_dict(json.loads(json.dumps(c))) for c in plan.cells]
    for cell, step in zip(cells, plan.step_of_cell):
        if step is None or run is None or step >= len(run.results):
            continue
        result = run.results[step]
        if show_hidden and plan.steps[step].hidden:
            cell.source = f"{plan.steps[step].source}\n\n# hidden tests\n{plan.steps[step].hidden}"
        cell.outputs = [nbformat.from_dict(o) for o in result.visible.outputs]
        if result.visible.status not in ("ok", "error"):
            cell.outputs.append(nbformat.from_dict(_status_output(result.visible)))
        hidden = result.hidden
        if hidden is not None and show_hidden:
            cell.outputs += [nbformat.from_dict(o) for o in hidden.outputs]
        if hidden is not None and hidden.status not in ("ok", "skipped", "error" if show_hidden else ""):
            cell.outputs.append(nbformat.from_dict(_status_output(hidden) if show_hidden else _hidden_output(hidden)))
    if notes:
        text = "**Grading notes**\n\n" + "\n".join(f"- {n}" for n in notes)
        cells.insert(0, nbformat.v4.new_markdown_cell(text))
    notebook.cells = cells
    return notebook


def _record(gradebook, assignment: str, student: str, notebook_name: str, passed: dict[str, bool]) -> dict:
    scores = {}
    submission = gradebook.find_submission_notebook(notebook_name.removesuffix(".ipynb"), assignment, student)
    for grade in submission.grades:
        if grade.cell_type != "code":
            continue
        grade.auto_score = grade.max_score if passed.get(grade.name) else 0.0
        grade.needs_manual_grade = grade.manual_score is not None
        chosen = grade.manual_score if grade.manual_score is not None else grade.auto_score
        scores[grade.name] = float(chosen) + float(grade.extra_credit or 0.0)
    gradebook.db.commit()
    return scores


def _fresh_submission(gradebook, assignment: str, student: str) -> None:
    from nbgrader.api import MissingEntry

    gradebook.update_or_create_student(student)
    try:
        gradebook.remove_submission(assignment, student)
    except MissingEntry:
        pass


# --- the command -------------------------------------------------------------------------------


def _settings_digest(source_hash: str, limits: sandbox.Limits, env: dict) -> str:
    return hashlib.sha256(json.dumps([PIPELINE, source_hash, asdict(limits), sorted(env.items())]).encode()).hexdigest()


def _warm_cache(course: Path, assignment: str, sources: dict, box: sandbox.Sandbox, source_hash: str) -> str:
    """Compile the solution once into a cache that student kernels may only read."""
    cache = course / STATE / "jax-cache" / f"{assignment}-{source_hash[:12]}"
    ready = cache / ".complete"
    if not ready.is_file():
        shutil.rmtree(cache, ignore_errors=True)
        writer = replace(box, cache=str(cache), cache_writable=True)
        for name, source in sources.items():
            plan = submissions.plan(source, source)
            run = sandbox.Run.from_dict(run_job(Job("solution", name, plan.steps, writer)))
            failed = [r.cell for r in run.results if r.kind == "test" and not r.passed]
            if failed:
                details = "; ".join(run.notes) or ", ".join(failed)
                raise grading.GradingError(f"{assignment}/{name}: the solution fails its own tests in the "
                                           f"grader's sandbox ({details})")
        ready.write_text("solution compiled\n")
    return str(cache)


def grade(root: Path, assignment: str, submitted: Path, *, course: Path | None = None, workers: int | None = None,
          scheduler: str | None = None, only: list[str] | None = None, force: bool = False,
          limits: sandbox.Limits | None = None, pattern: str = submissions.DEFAULT_PATTERN,
          env: dict | None = None, isolate: bool | None = None, cache: bool = True,
          progress: bool = True, feedback: bool = True, show_hidden: bool = False) -> Report:
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    # nbgrader's add_submission trips SQLAlchemy's autoflush warnings; harmless, and noise at 2 a.m.
    warnings.filterwarnings("ignore", category=SAWarning)
    start = time.monotonic()
    course = Path(course or root / "grading").resolve()
    limits = limits or sandbox.Limits()
    env = dict(env or {})
    workers = workers or os.cpu_count() or 1
    source_hash = prepare(root, assignment, course)
    source_folder = course / "source" / assignment
    sources = {p.name: nbformat.read(p, as_version=4) for p in sorted(source_folder.glob("*.ipynb"))}
    collected, orphans = submissions.collect(Path(submitted), pattern)
    unknown = sorted(set(only or []) - set(collected))
    if unknown:
        raise grading.GradingError(f"no submission from {', '.join(unknown)} in {submitted}")
    state = _load_state(course, assignment)
    settings = _settings_digest(source_hash, limits, {**env, "show_hidden": str(show_hidden)})
    digests = {s: hashlib.sha256((settings + sub.digest()).encode()).hexdigest() for s, sub in collected.items()}
    if only:
        todo = sorted(only)
    else:
        todo = sorted(s for s in collected if force or state["students"].get(s, {}).get("digest") != digests[s])
    box = sandbox.Sandbox(env=env, limits=limits, isolate=isolate)
    if todo and cache and box.isolate:
        box = replace(box, cache=_warm_cache(course, assignment, sources, box, source_hash), cache_writable=False)
    jobs: list[Job] = []
    plans: dict[tuple[str, str], submissions.Plan] = {}
    results: dict[str, Student] = {}
    url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        for student in todo:
            sub = collected[student]
            _keep_submitted(course, assignment, sub)
            record = results[student] = Student(digests[student], notes=list(sub.notes))
            found, notes = submissions.pick_notebooks(sub, list(sources))
            record.notes += notes
            _fresh_submission(gradebook, assignment, student)
            if not found:
                record.zero_reason = NOT_SUBMITTED
                continue
            gradebook.add_submission(assignment, student)
            for name, source in sources.items():
                notebook, problem = (None, "missing")
                if name in found:
                    notebook, problem = submissions.read_notebook(found[name][1])
                plan = submissions.plan(source, notebook)
                if notebook is None:
                    reason = f"{name}: {problem}" if name in found else f"{name}: not submitted"
                    record.notes.append(reason)
                    record.zero_reason = record.zero_reason or reason
                    _write_autograded(course, assignment, student, name, source, plan, None,
                                      [f"{reason}: nothing of it could be graded"])
                    continue
                plans[(student, name)] = plan
                jobs.append(Job(student, name, plan.steps, box))
    for job, run in _run_all(jobs, min(workers, max(1, len(jobs))), scheduler, progress) if jobs else []:
        record = results[job.student]
        plan = plans[(job.student, job.notebook)]
        if isinstance(run, Exception):
            run = sandbox.Run([], [f"the grader failed on this notebook: {run!r}"], 0.0, box.isolation)
        notes = list(plan.notes) + list(run.notes)
        for result in run.results:
            notes += _describe_changes(result.cell, result.changes)
        record.notes += notes
        record.seconds += run.seconds
        passed = {r.cell: r.passed for r in run.results if r.kind == "test"}
        _write_autograded(course, assignment, job.student, job.notebook, sources[job.notebook], plan, run,
                          record.notes, show_hidden)
        with Gradebook(url) as gradebook:
            record.cells.update(_record(gradebook, assignment, job.student, job.notebook, passed))
    with Gradebook(url) as gradebook:
        max_score = float(gradebook.find_assignment(assignment).max_score)
        for student, record in results.items():
            record.score = sum(record.cells.values())
            state["students"][student] = asdict(record)
    state["source"] = source_hash
    _save_state(course, assignment, state)
    feedback_for = [s for s in todo if results[s].zero_reason != NOT_SUBMITTED]
    if feedback and feedback_for:
        _feedback(course, assignment, feedback_for, len(collected))
    if todo or not (course / "grades.csv").is_file():
        grading.nbgrader(["export", "--to", "grades.csv"], course)
    students = {s: Student(**state["students"][s]) for s in sorted(collected) if s in state["students"]}
    return Report(assignment, max_score, grading.tasks(root, assignment), students, todo, orphans,
                  box.isolation, workers, time.monotonic() - start, course)


def _write_autograded(course: Path, assignment: str, student: str, name: str, source, plan, run, notes,
                      show_hidden: bool = False) -> None:
    folder = course / "autograded" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(autograded_notebook(source, plan, run, notes, show_hidden), folder / name)


def _feedback(course: Path, assignment: str, students: list[str], everyone: int) -> None:
    if len(students) * 3 >= everyone:
        grading.nbgrader(["generate_feedback", assignment, "--force"], course)
        return
    for student in students:
        grading.nbgrader(["generate_feedback", assignment, "--force", "--student", student], course)


def write_class(folder: Path, students: dict[str, dict[str, nbformat.NotebookNode]]) -> Path:
    """Write {student: {file: notebook}} as a submissions folder that `grade` reads."""
    for student, notebooks in students.items():
        (folder / student).mkdir(parents=True, exist_ok=True)
        for filename, notebook in notebooks.items():
            nbformat.write(notebook, folder / student / filename)
    return folder


# --- the summary -------------------------------------------------------------------------------


def task_scores(report: Report) -> dict[str, dict[str, float]]:
    """{task grade_id: {student: points}} for every student with a score."""
    table: dict[str, dict[str, float]] = {}
    for task in report.tasks:
        for student, record in report.students.items():
            table.setdefault(task.grade_id, {})[student] = sum(record.cells.get(c, 0.0) for c in task.tests)
    return table


def summarize(report: Report) -> str:
    lines = [f"{report.assignment}: {len(report.students)} students, {len(report.graded)} graded now in "
             f"{report.seconds:.1f} s ({report.workers} workers, isolation: {report.isolation}); "
             f"out of {report.max_score:g} points"]
    if report.isolation != "namespaces":
        lines.append("  warning: student code ran as this user without namespaces (not root, or no `unshare`): "
                     "it could read files this user can read; see README, 'Grading submissions'")
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
            lines.append(f"    {student}: {why}")
    flagged = {s: [n for n in r.notes if n not in r.zero_reason] for s, r in report.students.items()}
    flagged = {s: notes for s, notes in flagged.items() if notes}
    if flagged:
        lines.append("  notes (also in each student's feedback):")
        for student, notes in flagged.items():
            for note in notes:
                lines.append(f"    {student}: {note}")
    if report.orphans:
        lines.append(f"  files with no student id (pattern did not match): {', '.join(report.orphans[:10])}")
    lines.append(f"  grades: {report.course / 'grades.csv'}")
    lines.append(f"  feedback: {report.course / 'feedback'}/<student>/{report.assignment}/")
    return "\n".join(lines)
