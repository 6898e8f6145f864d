"""`jaxcourse grade`: from a pile of submissions to grades.csv, feedback and a summary.

The host process (this one) is the only one that writes grades. It keeps an nbgrader course in
`grading/` (`gradebook`), rebuilds each student's notebook from the trusted source
(`submissions`), and hands one job per student to Dask workers (`workers`), which run it in a
sandboxed kernel (`runner`) and send back what happened. A student is graded again only when
their files, the source or the settings change.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

import nbformat

from jaxcourse.course import assignments
from jaxcourse.course.assignments import CourseError
from jaxcourse.grading.intake import lateness, submissions
from jaxcourse.grading.intake import roster as rosters
from jaxcourse.grading.intake.steps import Run, course_cells
from jaxcourse.grading.out import gradebook
from jaxcourse.grading.out.summary import NOT_ON_ROSTER, NOT_SUBMITTED, Report, Student
from jaxcourse.grading.sandbox import watchdog, zygote
from jaxcourse.grading.sandbox.settings import Limits, Sandbox, sweep
from jaxcourse.grading.verdicts import behaviour, pool
from jaxcourse.grading.workers import GraderStalled, Job, run_all, run_job

PIPELINE = "2"  # 2: failed hidden parts described, kept mistakes named


# --- the command -------------------------------------------------------------------------------


def stop_cleanly_on_signals() -> None:
    """SIGTERM and SIGHUP end a run as Ctrl-C does: every kernel, mount and folder of the run is
    removed on the way out, and the gradebook keeps each student's last complete result."""
    import signal

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    for which in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(which, stop)


def _settings_digest(source_hash: str, limits: Limits, env: dict) -> str:
    return hashlib.sha256(json.dumps([PIPELINE, source_hash, asdict(limits), sorted(env.items())]).encode()).hexdigest()


def _warm_cache(course: Path, assignment: str, sources: dict, box: Sandbox, source_hash: str) -> Sandbox:
    """Two compilation caches, both filled while the solution is checked against its tests: the
    students' kernels', which they may read and never list, and the test kernels' own, which no
    student's kernel is shown. An entry's name is the hash of the computation it holds, so a
    student's kernel can open only the entries of what it compiles itself (`_unlisted`)."""
    folder = course / gradebook.STATE / "jax-cache" / f"{assignment}-{source_hash[:12]}"
    students, tests, ready = folder / "students", folder / "tests", folder / ".complete"
    warmed = replace(box, cache=str(students), cache_writable=False, test_cache=str(tests))
    if not ready.is_file():
        shutil.rmtree(students, ignore_errors=True)
        checking = replace(warmed, cache_writable=True)
        for name, source in sources.items():
            plan = submissions.plan(source, source)
            pool.start_ahead(checking, course_cells(plan.steps), 1)
            run = Run.from_dict(run_job(Job("solution", name, plan.steps, checking)))
            failed = [r for r in run.results if r.kind == "test" and not r.passed]
            if failed:
                first = next(o for o in (failed[0].visible, failed[0].hidden) if o and o.status != "ok")
                details = "; ".join(run.notes) or ", ".join(r.cell for r in failed)
                details += f"; {failed[0].cell}: {first.error[:400]}"
                raise CourseError(f"{assignment}/{name}: the solution fails its own tests in the "
                                           f"grader's sandbox ({details})")
        _unlisted(students)
        ready.write_text("the solution's run compiled\n")
    return warmed


def warmed_caches(course: Path, assignment: str) -> list[Path]:
    """The compilation caches a run of `assignment` in `course` filled (`_warm_cache`): what a plain
    nbgrader run of the solution may start from."""
    return sorted(p for p in (course / gradebook.STATE / "jax-cache").glob(f"{assignment}-*/*") if p.is_dir())


def _unlisted(folder: Path) -> None:
    """The grader's own, its entries readable and the folder not listable by a kernel's user: a
    kernel opens an entry only by its name, which it learns by compiling the same computation
    (hostile case `cache-replay` lists the folder and finds nothing)."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in [*folder.rglob("*"), folder]:
        if os.geteuid() == 0:
            os.chown(entry, 0, 0, follow_symlinks=False)
        if not entry.is_symlink():
            os.chmod(entry, 0o711 if entry.is_dir() else 0o644)


def grade(root: Path, assignment: str, submitted: Path, *, course: Path | None = None, workers: int | None = None,
          scheduler: str | None = None, only: list[str] | None = None, force: bool = False,
          limits: Limits | None = None, pattern: str | None = None,
          env: dict | None = None, isolate: bool | None = None, cache: bool = True,
          progress: bool = True, feedback: bool = True, show_hidden: bool = False,
          roster: Path | None = None, policy: lateness.Policy | None = None, warm: bool = True,
          keep_behaviour: bool = False) -> Report:
    """`roster`: who is enrolled (kept for later runs and `jaxcourse export`); `policy`: the late
    policy (kept too). Without them, the ones given to the last run are used. `warm`: kernels
    forked from a zygote (False: a fresh Python each, for the bench). `keep_behaviour`: each lost
    task's whole behaviour in the report (`behaviour.record`)."""
    start = time.monotonic()
    course = Path(course or root / "grading").resolve()
    limits = limits or Limits()
    env = dict(env or {})
    if workers is not None and workers < 1:
        raise CourseError(f"--workers {workers}: needs at least 1")
    workers = workers or os.cpu_count() or 1
    assignments.assignment_folder(root, assignment)  # an unknown name fails here, listing the known
    enrolled = rosters.read(roster) if roster else None
    source_folder = root / assignments.SOURCE / assignment
    sources = {p.name: nbformat.read(p, as_version=4) for p in sorted(source_folder.glob("*.ipynb"))}
    box = Sandbox(env=env, limits=limits, isolate=isolate, warm=warm, preload=zygote.imports_of(sources.values()))
    # Read everything before touching the course: bad input leaves the last run as it was.
    collected, orphans = submissions.collect(Path(submitted), pattern)
    if not any(name.endswith(".ipynb") for sub in collected.values() for name in sub.files):
        unreadable = [note for sub in collected.values() for note in sub.notes if ".ipynb: " in note]
        found = (f"no readable notebook in it ({len(unreadable)} damaged or too large, e.g. {unreadable[0]})"
                 if unreadable else f"no notebook in it ({len(collected)} students, {len(orphans)} other files)")
        raise CourseError(f"{submitted}: {found}: nothing graded, the last run's results are kept")
    unknown = sorted(set(only or []) - set(collected))
    if unknown:
        raise CourseError(f"no submission from {', '.join(unknown)} in {submitted}")
    source_hash = gradebook.open_course(root, assignment, course)
    swept = sweep()  # what stopped or crashed runs left: folders, mounts, cgroups
    state = gradebook.load_state(course, assignment)
    if enrolled is not None:
        gradebook.keep_roster(course, assignment, Path(roster))
    else:
        enrolled = gradebook.kept_roster(course, assignment)
    if policy is not None:
        state["policy"] = policy.to_dict()
    policy = lateness.Policy(**state.get("policy", {}))
    recorded = behaviour.load(root, assignment)  # the kept mistakes' behaviour, to name them in feedback
    settings = _settings_digest(source_hash, limits, {**env, "show_hidden": str(show_hidden),
                                                      "mistakes": recorded.get("source", "")})
    digests = {s: hashlib.sha256((settings + sub.digest()).encode()).hexdigest() for s, sub in collected.items()}
    if only:
        todo = sorted(only)
    else:
        todo = sorted(s for s in collected if force or state["students"].get(s, {}).get("digest") != digests[s])
    try:
        # The solution fills the compilation cache while nbgrader generates the assignment: they
        # need different things (a kernel, this process), so they overlap.
        with ThreadPoolExecutor(1) as background:
            warming = (background.submit(_warm_cache, course, assignment, sources, box, source_hash)
                       if todo and cache and box.isolation != "process" else None)
            # nbgrader's imports take a second: here, once the solution's kernel has started
            from nbgrader.api import Gradebook
            from sqlalchemy.exc import SAWarning

            # nbgrader's add_submission trips SQLAlchemy's autoflush warnings; harmless, and noise at 2 a.m.
            warnings.filterwarnings("ignore", category=SAWarning)
            gradebook.prepare(root, assignment, course)
            if warming is not None:
                box = warming.result()
            if todo and not scheduler:  # the first notebooks' kernels start while the submissions are read
                for source in sources.values():
                    pool.start_ahead(box, course_cells(submissions.plan(source, source).steps), min(workers, len(todo)))
        jobs: list[Job] = []
        tasks = assignments.tasks(root, assignment)
        pages: dict[str, dict] = {}  # student: {notebook: (plan, Run or None, notes of its own)}
        waiting: dict[str, int] = {}  # student: notebooks still being graded
        ungraded: dict[str, str] = {}  # student: why the grader could not grade them in this run
        results: dict[str, Student] = {}
        url = f"sqlite:///{course / 'gradebook.db'}"

        def land(book, student: str) -> None:
            """A student's new result is complete: only now does it replace their last one."""
            record = results[student]
            if student in ungraded:
                return
            try:
                _land(book, course, assignment, student, collected[student], record, sources, pages[student],
                      show_hidden)
            except Exception as err:  # the grader's own trouble with this student: their last result stays
                book.db.rollback()
                ungraded[student] = f"the grader could not record this result ({err.__class__.__name__}: {str(err)[:200]})"

        for student in todo:
            sub = collected[student]
            record = results[student] = Student(digests[student], notes=list(sub.notes))
            pages[student] = {}
            found, notes = submissions.pick_notebooks(sub, list(sources))
            record.notes += notes
            if not found:
                record.zero_reason = NOT_SUBMITTED
                continue
            for name, source in sources.items():
                notebook, problem = (None, "missing")
                if name in found:
                    notebook, problem = submissions.read_notebook(found[name][1])
                plan = submissions.plan(source, notebook)
                if notebook is None:
                    reason = f"{name}: {problem}" if name in found else f"{name}: not submitted"
                    record.notes.append(reason)
                    record.zero_reason = record.zero_reason or reason
                    pages[student][name] = (plan, None, [f"{reason}: nothing of it could be graded"], {})
                    continue
                pages[student][name] = (plan, None, None, {})
                waiting[student] = waiting.get(student, 0) + 1
                jobs.append(Job(student, name, plan.steps, box))
        with Gradebook(url) as book:  # one connection for the whole run, not one a notebook
            for student in todo:
                if not waiting.get(student):
                    land(book, student)
            stalls: list[str] = []
            log = course / gradebook.STATE / f"run-{assignment}.log"
            for job, run in (run_all(jobs, min(workers, max(1, len(jobs))), scheduler, progress, log, stalls)
                             if jobs else []):
                record = results[job.student]
                plan = pages[job.student][job.notebook][0]
                if isinstance(run, Exception):
                    ungraded[job.student] = f"{job.notebook}: {run}" if isinstance(run, GraderStalled) else \
                        f"{job.notebook}: the grader failed on this notebook twice ({run!r})"
                else:
                    notes = list(plan.notes) + list(run.notes)
                    for result in run.results:
                        notes += gradebook.describe_changes(result.cell, result.changes)
                    record.notes += notes
                    record.seconds += run.seconds
                    record.cell_seconds += sum(o.seconds for r in run.results for o in (r.visible, r.hidden) if o is not None)
                    lost = behaviour.lost_tasks(run, tasks)
                    record.lost.update({task: behaviour.key(b) for task, b in lost.items()})
                    if keep_behaviour:
                        record.behaviours.update(lost)
                        record.visible_checks.update(behaviour.visible_checks(run, tasks))
                    named = behaviour.named_in_run(run, tasks, recorded)
                    record.named.update({cell: m["file"] for cell, m in named.items()})
                    pages[job.student][job.notebook] = (plan, run, None, named)
                waiting[job.student] -= 1
                if not waiting[job.student]:
                    land(book, job.student)
    finally:  # whether the run ended, failed or was stopped (SIGTERM, Ctrl-C): no kernel outlives it
        pool.close_all()  # kernels started ahead for notebooks that never came
        zygote.close_all()  # a zygote holds its imports' memory: none outlives its run
        watchdog.kill_all()
    with Gradebook(url) as book:
        max_score = float(book.find_assignment(assignment).max_score)
        for student, record in results.items():
            if student in ungraded:
                state["students"][student] = _kept_when_ungraded(state["students"].get(student), record,
                                                                 ungraded[student])
                continue
            record.score = sum(record.cells.values())
            state["students"][student] = asdict(record)
        present = _enrol(book, state, collected, enrolled, policy, max_score)
    state["source"] = source_hash
    state["present"] = present
    gradebook.save_state(course, assignment, state)
    feedback_for = [s for s in todo if results[s].zero_reason != NOT_SUBMITTED and s not in ungraded]
    failed_feedback = []
    if feedback and feedback_for:
        failed_feedback = gradebook.feedback(course, assignment, feedback_for, len(collected))
    if todo or roster is not None or not (course / "grades.csv").is_file():  # a roster brings names
        gradebook.export_grades(course)
    students = {s: Student(**state["students"][s]) for s in present if s in state["students"]}
    run_warnings = [f"{line} (every thread's stack: {log})" for line in stalls]
    if swept:
        run_warnings.append(f"cleaned up {len(swept)} folder(s) and cgroup(s) that stopped runs left behind "
                        f"(first: {swept[0]})")
    if failed_feedback:
        run_warnings.append(f"no feedback page for {len(failed_feedback)} student(s): "
                        f"{', '.join(failed_feedback[:10])}; their grades stand")
    if ungraded:
        run_warnings.append(f"not graded in this run, their last result kept ({len(ungraded)}): "
                        f"{', '.join(sorted(ungraded)[:10])}{' ...' if len(ungraded) > 10 else ''}; "
                        "the next run grades them again")
    return Report(assignment, max_score, assignments.tasks(root, assignment), students, todo, orphans,
                  box.isolation, workers, time.monotonic() - start, course,
                  policy.describe() if policy.due else "", run_warnings)


NOT_GRADED = "NOT GRADED in the last run"


def _kept_when_ungraded(old: dict | None, record: Student, why: str) -> dict:
    """A student the grader could not grade keeps their last result, with a note, and no digest:
    the next run grades them again."""
    note = f"{NOT_GRADED}: {why}; the result before it is kept"
    if old and old.get("zero_reason") != NOT_GRADED:
        kept = dict(old)
    else:
        kept = asdict(Student(zero_reason=NOT_GRADED, name=record.name))
    kept["notes"] = [n for n in kept.get("notes", []) if not n.startswith(NOT_GRADED)] + [note]
    kept["digest"] = ""
    return kept


def _land(book, course: Path, assignment: str, student: str, sub, record: Student, sources: dict, pages: dict,
          show_hidden: bool) -> None:
    """Write a student's whole new result: their files, graded notebooks and gradebook rows. The
    pages are built first (what a submission holds can only fail there, and then only shows less)."""
    record.notes += gradebook.keep_submitted(course, assignment, sub)
    built = {}
    for name, (plan, run, own_notes, named) in pages.items():
        notes = own_notes if own_notes is not None else record.notes
        built[name] = gradebook.safe_autograded_notebook(sources[name], plan, run, notes, show_hidden, named)
    gradebook.fresh_submission(book, assignment, student)
    if record.zero_reason == NOT_SUBMITTED:
        return
    book.add_submission(assignment, student)
    for name, page in built.items():
        gradebook.write_page(course, assignment, student, name, page)
        plan, run, _, _ = pages[name]
        passed = {r.cell: r.passed for r in run.results if r.kind == "test"} if run is not None else {}
        record.cells.update(gradebook.record(book, assignment, student, name, passed))


def _enrol(book, state: dict, collected: dict, enrolled: rosters.Roster | None, policy: lateness.Policy,
           max_score: float) -> list[str]:
    """Bring names, roster membership and lateness up to date for everyone in this run (graded
    now or before), record roster students who submitted nothing, and return who is in the run:
    the submissions and the roster, nobody else."""
    people = enrolled.people if enrolled else {}
    records = state["students"]
    for student in sorted(set(people) - set(collected)):
        old = records.get(student)
        if old and old.get("zero_reason") != NOT_SUBMITTED and old.get("cells"):
            note = "not in this download: the grade of an earlier run is kept"
            old["notes"] = [n for n in old.get("notes", []) if n != note] + [note]
            continue
        records[student] = asdict(Student(zero_reason=NOT_SUBMITTED, notes=["on the roster, nothing submitted"]))
    for student in sorted(set(people) | set(collected)):
        record = records.setdefault(student, asdict(Student()))
        person = people.get(student)
        sub = collected.get(student)
        record["name"] = person.name if person else (sub.name if sub else record.get("name", ""))
        record["email"] = person.email if person else record.get("email", "")
        record["roster"] = ("on" if person else "off") if enrolled else ""
        notes = [n for n in record.get("notes", []) if n != NOT_ON_ROSTER]
        record["notes"] = notes + ([NOT_ON_ROSTER] if record["roster"] == "off" else [])
        when = (person.submitted_at if person and person.submitted_at else None) or (sub.submitted_at if sub else None)
        marker = sub.late_marker if sub is not None and sub.file_id else None
        days = lateness.days_late(policy, when, marker) if sub is not None else 0
        record["file_id"] = sub.file_id if sub is not None else record.get("file_id", "")
        record["submitted_at"] = when.isoformat(timespec="minutes") if when else ""
        record["late_days"] = days
        record["penalty"] = lateness.penalty(policy, days, max_score)
        first, last = (person.first, person.last) if person else ("", "")
        book.update_or_create_student(student, first_name=first or None, last_name=last or record["name"] or None,
                                      email=record["email"] or None)
    return sorted(set(people) | set(collected))


