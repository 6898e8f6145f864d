"""`jaxcourse`: the one command the Makefile and CI call."""

from __future__ import annotations

import argparse
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


def grade(args) -> int:
    """Grade a folder or LMS zip of submissions: grades.csv, feedback, a summary."""
    from jaxcourse.course import assignments
    from jaxcourse.grading import pipeline
    from jaxcourse.grading.intake import lateness
    from jaxcourse.grading.sandbox.settings import Limits

    root = assignments.course_root()
    pipeline.stop_cleanly_on_signals()
    limits = Limits(cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
                            memory_bytes=int(args.memory * 2**30))
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
    for name in args.assignments or assignments.assignment_names(root):
        report = mutation_audit.audit(root, name, cap=None if args.all else args.cap, workers=args.workers,
                                      scheduler=args.scheduler, progress=not args.no_progress)
        print(report.table())
        failed += not report.passed
    return 1 if failed else 0


def transcription(args) -> int:
    """How much of each task's solution a chapter's code already holds; exit 1 above the limit."""
    from jaxcourse.course import assignments
    from jaxcourse.quality import transcription as measure

    found = measure.measure(assignments.course_root(), args.assignments or None)
    print(measure.table(found, detail=args.detail))
    return 0 if measure.overall(found) <= measure.LIMIT else 1


class _Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default unless it has none (None, False) or its help says it already."""

    def _get_help_string(self, action):
        if action.default in (None, False, argparse.SUPPRESS) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class _Commands:
    """add_parser with the help line as the command's description and defaults shown."""

    def __init__(self, commands):
        self.commands = commands

    def add_parser(self, name, help):
        return self.commands.add_parser(name, help=help, description=(help[:1].upper() + help[1:]).replace("%%", "%") + ".",
                                        formatter_class=_Defaults)


def _execution_options(command, output: str, what: str) -> None:
    command.add_argument("--quick", action="store_true", help="pass QUICK=True to the parameters cell")
    command.add_argument("--output", default=output, help=what)
    command.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jaxcourse", description=__doc__)
    commands = _Commands(parser.add_subparsers(dest="command", required=True))

    run = commands.add_parser("run-notebooks", help="execute notebooks with papermill into build/")
    run.add_argument("paths", nargs="*", help="notebooks or folders (default: chapters/)")
    _execution_options(run, "build/notebooks", "where executed copies go")
    run.add_argument("--report", help="write a markdown table (backend, devices, result, time) here")
    run.set_defaults(handler=run_notebooks)

    book_command = commands.add_parser("book", help="execute chapters and render them as a website")
    book_command.add_argument("chapters", nargs="*", help="chapter names, e.g. 01_xor (default: all)")
    _execution_options(book_command, "build/site", "where the site goes")
    book_command.set_defaults(handler=book)

    bench_command = commands.add_parser("bench", help="print a benchmark table (not a test)")
    bench_command.add_argument("name", help="which benchmark, e.g. mnist")
    bench_command.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    bench_command.add_argument("--assignment", action="append", metavar="NAME",
                               help="grading: an assignment to grade (repeatable; default 01_xor)")
    bench_command.add_argument("--all", action="store_true", help="grading: every assignment")
    bench_command.add_argument("--size", type=int, help="grading: submissions in each class (default 16)")
    bench_command.add_argument("--sample", type=int,
                               help="grading: how many of them plain nbgrader grades (default up to 16)")
    bench_command.add_argument("--workers", type=int, help="grading: workers (default: one per core)")
    bench_command.add_argument("--cold", action="store_true",
                               help="grading: also grade with a fresh Python per kernel (no zygote)")
    bench_command.set_defaults(handler=bench)

    grade_command = commands.add_parser("grade", help="grade submissions: grades.csv, feedback, summary")
    grade_command.add_argument("assignment", help="assignment name, e.g. 01_xor")
    grade_command.add_argument("submissions", help="folder of <student>/<notebook>.ipynb, or an LMS zip")
    grade_command.add_argument("--course-dir", default="grading", help="nbgrader course kept by the grader")
    grade_command.add_argument("--workers", type=int, help="parallel kernels (default: one per core)")
    grade_command.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786")
    grade_command.add_argument("--student", action="append", help="regrade only this student (repeatable)")
    grade_command.add_argument("--force", action="store_true", help="regrade everyone")
    grade_command.add_argument("--cell-timeout", type=float, default=300, help="seconds per cell")
    grade_command.add_argument("--notebook-timeout", type=float, default=1200, help="seconds per notebook")
    grade_command.add_argument("--memory", type=float, default=4, help="GiB per kernel")
    grade_command.add_argument("--pattern",
                               help="regex with (?P<student>) and (?P<file>) for flat file names (default: "
                                    "Canvas, Moodle and Blackboard names, else <student>_<file>)")
    grade_command.add_argument("--roster", help="who is enrolled: Canvas gradebook export, Moodle grading "
                                                "worksheet or id,name[,email] CSV (default: the last one given)")
    grade_command.add_argument("--due", help="due date and time, e.g. 2024-01-31T23:59 (default: the last one "
                                             "given; none: nothing is late)")
    grade_command.add_argument("--late-penalty", type=float,
                               help="percent of the points lost per started day late (default: 0)")
    grade_command.add_argument("--late-cap", type=float, help="at most this percent lost to lateness (default: 100)")
    grade_command.add_argument("--cpu-devices", type=int, help="simulated CPU devices for each kernel")
    grade_command.add_argument("--no-cache", action="store_true",
                               help="do not share the solution's compiled code (read-only) with kernels")
    grade_command.add_argument("--no-progress", action="store_true", help="no progress bar")
    grade_command.add_argument("--show-hidden", action="store_true",
                               help="after the deadline: feedback shows the hidden tests' code and messages")
    grade_command.set_defaults(handler=grade)

    report_command = commands.add_parser("report", help="HTML analytics of the last grading run")
    report_command.add_argument("assignment", help="assignment name, e.g. 01_xor")
    report_command.add_argument("--course-dir", default="grading", help="the folder `jaxcourse grade` kept")
    report_command.add_argument("--output", help="where the page goes (default: grading/report-NAME.html)")
    report_command.add_argument("--similarity", type=float, default=0.9, help="similar-answer threshold, 0-1")
    report_command.add_argument("--min-tokens", type=int, default=40, help="shorter answers are not compared")
    report_command.set_defaults(handler=report)

    from jaxcourse.grading.out.lms_export import FORMATS

    export_command = commands.add_parser("export", help="grades or feedback for the LMS from the last grading run")
    export_command.add_argument("assignment", help="assignment name, e.g. 01_xor")
    export_command.add_argument("--format", required=True, choices=FORMATS,
                                help="canvas or moodle (gradebook import), csv, feedback-zip")
    export_command.add_argument("--roster", help="roster file (default: the one given to `jaxcourse grade`)")
    export_command.add_argument("--column", help="Canvas column, e.g. 'XOR (1234)' (default: the roster's "
                                                 "column named like the assignment)")
    export_command.add_argument("-o", "--output", help="where it goes (default: grading/export-NAME-FORMAT.csv|zip)")
    export_command.add_argument("--course-dir", default="grading", help="the folder `jaxcourse grade` kept")
    export_command.set_defaults(handler=export)

    forget_command = commands.add_parser("forget", help="remove students of a mistaken run from an assignment")
    forget_command.add_argument("assignment", help="assignment name, e.g. 01_xor")
    forget_command.add_argument("students", nargs="+", help="student ids")
    forget_command.add_argument("--course-dir", default="grading", help="the folder `jaxcourse grade` kept")
    forget_command.set_defaults(handler=forget)

    audit_command = commands.add_parser("audit", help="mutation analysis: do hidden tests catch plausible mistakes?")
    audit_command.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    audit_command.add_argument("--cap", type=int, default=8, help="mutants per task, spread over kinds (default 8)")
    audit_command.add_argument("--all", action="store_true", help="every mutant, no cap")
    audit_command.add_argument("--workers", type=int, help="parallel kernels (default: one per core)")
    audit_command.add_argument("--scheduler", help="address of a running Dask scheduler")
    audit_command.add_argument("--no-progress", action="store_true", help="no progress bar")
    audit_command.set_defaults(handler=audit)

    transcription_command = commands.add_parser(
        "transcription", help="share of task solutions mostly present in a chapter's code (fails above 15%%)")
    transcription_command.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    transcription_command.add_argument("--detail", action="store_true", help="one line per task")
    transcription_command.set_defaults(handler=transcription)

    for name, handler, text in (
        ("release", release, "regenerate exercises/ from solutions/ with nbgrader"),
        ("check-release", check_release, "fail when exercises/ differs from what solutions/ generates"),
        ("validate", validate, "prove every assignment gradeable through real nbgrader"),
        ("mistakes", mistakes, "record how each kept mistake behaves (feedback names it)"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("assignments", nargs="*", help="assignment names (default: all)")
        command.set_defaults(handler=handler)
        if name == "validate":
            command.add_argument("--cpu-devices", type=int, help="grade on this many simulated CPU devices")

    for name, handler, text in (
        ("badges", badges, "stamp the Open-in-Colab badge and set-up cell into chapters/ and solutions/"),
        ("normalize", normalize, "clear outputs, execution counts and extra metadata from notebooks"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--check", action="store_true", help="change nothing; exit 1 listing offenders")
        command.set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    """User errors (bad input, a missing file, no course here) end as one line and exit 2."""
    from jaxcourse.course.assignments import CourseError

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt as err:
        print(f"{err or 'stopped'}: every student keeps their last complete result", file=sys.stderr)
        return 130
    except (CourseError, ValueError, OSError) as err:
        message = " ".join(str(err).split()) or err.__class__.__name__
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
