"""What each `jaxcourse` command does, given its parsed arguments (`parser`)."""

from __future__ import annotations

import sys
from pathlib import Path


def run_notebooks(args) -> int:
    from jaxcourse.course import notebooks

    rows = notebooks.run_many(Path.cwd(), args.paths, Path(args.output), quick=args.quick, timeout=args.timeout)
    failures = sum(row[3] == "fail" for row in rows)
    if args.report:
        notebooks.write_report(Path(args.report), rows, quick=args.quick)
        print(f"report written to {args.report}")
    print(f"{len(rows) - failures} passed, {failures} failed")
    return 1 if failures else 0


def release(args) -> int:
    from jaxcourse.course import assignments, release
    from jaxcourse.quality import recording

    root = assignments.course_root()
    for path in release.release(root, args.assignments or None):
        print(f"generated {path.relative_to(root)}")
    table = recording.publish(root)
    if table is not None:
        print(f"generated {table.relative_to(root)} (known mistakes a notebook can name)")
    return 0


def check_release(args) -> int:
    from jaxcourse.course import assignments
    from jaxcourse.quality import drift

    problems = drift.problems(assignments.course_root(), args.assignments or None)
    print("\n".join(problems or ["exercises/ and the kept mistakes' behaviour match solutions/; every hidden "
                                 "check says what it checks"]), file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


def mistakes(args) -> int:
    """Record how each kept mistake behaves, so that feedback can name it."""
    from jaxcourse.course import assignments
    from jaxcourse.quality import recording

    root = assignments.course_root()
    print("\n".join(recording.record_all(root, args.assignments or None)))
    table = recording.publish(root)
    if table is not None:
        print(f"generated {table.relative_to(root)} (known mistakes a notebook can name)")
    return 0


def _devices_env(cpu_devices: int | None) -> dict[str, str]:
    from jaxcourse import runtime

    return {"XLA_FLAGS": runtime.xla_flags_with_cpu_devices(cpu_devices)} if cpu_devices else {}


def validate(args) -> int:
    from jaxcourse.course import assignments
    from jaxcourse.quality import validate as validation

    root = assignments.course_root()
    failed = 0
    env = _devices_env(args.cpu_devices)
    for name in args.assignments or assignments.assignment_names(root):
        for check in validation.validate(root, name, env):
            failed += not check.ok
            mark = "ok  " if check.ok else "FAIL"
            print(f"{mark} {name} {check.submission}: expected {check.expected:g}, got {check.got:g}"
                  f" - {check.detail}")
    return 1 if failed else 0


def benchmarks() -> dict:
    """The benchmark tables `jaxcourse bench NAME` prints."""
    from jaxcourse.course import mnist_bench
    from jaxcourse.grading import bench as grading_bench

    return {"mnist": mnist_bench.mnist, "grading": grading_bench.run}


def bench(args) -> int:
    from jaxcourse.course.assignments import CourseError

    runner = benchmarks().get(args.name)
    if runner is None:
        raise CourseError(f"unknown benchmark {args.name!r}; known: {', '.join(sorted(benchmarks()))}")
    options = {k: v for k, v in {"names": args.assignment, "every": args.all, "size": args.size, "sample": args.sample,
               "workers": args.workers, "cold": args.cold}.items()
               if v is not None and v is not False}
    if options and args.name != "grading":
        raise CourseError("--assignment, --all, --size, --sample, --workers and --cold are for `bench grading` only")
    print(runner(quick=args.quick, **options))
    return 0


def book(args) -> int:
    """Execute chapters and render them, with an index, into a static site."""
    from jaxcourse.course import assignments, site

    root = assignments.course_root()
    paths = site.chapter_paths(root, args.chapters)
    if not paths:
        raise assignments.CourseError(f"no chapters to render in {root}")
    result = site.build(paths, Path(args.output), quick=args.quick, timeout=args.timeout, root=root)
    print(f"{len(result.chapters)} chapters rendered, {len(result.failures)} failed; "
          f"open {result.index}")
    for line in result.failures:
        print(f"FAIL {line}", file=sys.stderr)
    return 1 if result.failures else 0


def badges(args) -> int:
    """Stamp the "Open in Colab" badge and the set-up cell into chapters/ and solutions/."""
    from jaxcourse.course import assignments
    from jaxcourse.course import badges as stamping

    said, failed = stamping.command(assignments.course_root(), check=args.check)
    for line in said:
        print(line, file=sys.stderr if failed else sys.stdout)
    return 1 if failed else 0


def normalize(args) -> int:
    from jaxcourse.course import assignments
    from jaxcourse.course.normalize import normalize_all

    root = assignments.course_root()
    offenders = normalize_all(root, write=not args.check)
    for path in offenders:
        relative = path.relative_to(root)
        if args.check:
            print(f"{relative}: has outputs, execution counts or extra metadata", file=sys.stderr)
        else:
            print(f"normalized {relative}")
    if args.check and offenders:
        print("run `jaxcourse normalize`", file=sys.stderr)
        return 1
    if not offenders:
        print("every chapter and solution notebook is normalized")
    return 0


def _limits(args):
    from jaxcourse.grading.sandbox.settings import Limits

    return Limits(cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
                  memory_bytes=int(args.memory * 2**30))


def grade(args) -> int:
    """Grade a folder or LMS zip of submissions: grades.csv, feedback, a summary."""
    from jaxcourse.course import assignments
    from jaxcourse.grading import pipeline
    from jaxcourse.grading.intake import lateness

    root = assignments.course_root()
    pipeline.stop_cleanly_on_signals()
    limits = _limits(args)
    env = _devices_env(args.cpu_devices)
    late = (args.due, args.late_penalty, args.late_cap)
    policy = lateness.policy(*late) if late != (None, None, None) else None
    report = pipeline.grade(root, args.assignment, Path(args.submissions), course=args.course_dir,
                            workers=args.workers, scheduler=args.scheduler, only=args.student,
                            force=args.force, limits=limits, pattern=args.pattern, env=env,
                            cache=not args.no_cache, progress=not args.no_progress,
                            show_hidden=args.show_hidden, roster=Path(args.roster) if args.roster else None,
                            policy=policy)
    if not report.graded:
        print(f"nothing changed: {len(report.students)} students already graded "
              "(--force regrades everyone, --student one)")
    summary = report.summary()
    (report.course / f"summary-{args.assignment}.txt").write_text(summary + "\n")
    print(summary)
    return 0


def report(args) -> int:
    """An HTML page about the last grading run of an assignment."""
    from jaxcourse.course import assignments
    from jaxcourse.grading.out import report as grading_report

    root = assignments.course_root()
    path = grading_report.write(root, args.assignment, Path(args.course_dir).resolve(),
                                Path(args.output) if args.output else None,
                                threshold=args.similarity, min_tokens=args.min_tokens)
    print(f"report written to {path}")
    return 0


def export(args) -> int:
    """Grades (Canvas, Moodle, CSV) or feedback pages (a zip) for the LMS, from the last grading run."""
    from jaxcourse.course import assignments
    from jaxcourse.grading.out import lms_export

    root = assignments.course_root()
    path, lines = lms_export.export(root, args.assignment, Path(args.course_dir).resolve(), args.format,
                                    Path(args.roster) if args.roster else None,
                                    Path(args.output) if args.output else None, args.column)
    for line in lines[1:]:
        print(f"note: {line}")
    print(f"{args.format} export of {args.assignment} ({lines[0]}) written to {path}")
    return 0


def autograder(args) -> int:
    """The assignment's grader for Gradescope (a zip) or PrairieLearn (an image and a question)."""
    from jaxcourse.course import assignments
    from jaxcourse.grading import autograder as platforms

    path, steps = platforms.build(assignments.course_root(), args.assignment, args.platform, Path(args.output),
                                  hidden=args.hidden, limits=_limits(args), image=args.image)
    print("\n".join([f"{args.platform} grader for {args.assignment} written to {path}", *steps]))
    return 0


def forget(args) -> int:
    """Remove students who came from a mistaken run from one assignment's grading."""
    from jaxcourse.course import assignments
    from jaxcourse.grading.out import gradebook

    root = assignments.course_root()
    assignments.assignment_folder(root, args.assignment)
    for line in gradebook.forget(Path(args.course_dir).resolve(), args.assignment, args.students):
        print(line)
    return 0


def audit(args) -> int:
    """Mutation analysis of every assignment's hidden tests; exit 1 below the threshold."""
    from jaxcourse.course import assignments
    from jaxcourse.quality import audit as mutation_audit

    root = assignments.course_root()
    failed = 0
    cap = None if args.all else args.cap
    for name in args.assignments or assignments.assignment_names(root):
        report = mutation_audit.audit(root, name, cap=cap, workers=args.workers,
                                      scheduler=args.scheduler, progress=not args.no_progress)
        print(report.table())
        if cap is None or cap >= mutation_audit.CAP:
            print(f"  recorded in {mutation_audit.save(root, report, cap).relative_to(root)}")
        failed += not report.passed
    return 1 if failed else 0


def transcription(args) -> int:
    """How much of each task's solution a chapter's code already holds; exit 1 above the limit."""
    from jaxcourse.course import assignments
    from jaxcourse.quality import transcription as measure

    found = measure.measure(assignments.course_root(), args.assignments or None)
    print(measure.table(found, detail=args.detail))
    return 0 if measure.overall(found) <= measure.LIMIT else 1
