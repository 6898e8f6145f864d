"""The `jaxcourse` command line: its commands, their arguments and help."""

from __future__ import annotations

import argparse

from jaxcourse.cli.handlers import (
    audit,
    autograder,
    badges,
    bench,
    book,
    check_release,
    export,
    forget,
    grade,
    mistakes,
    normalize,
    release,
    report,
    run_notebooks,
    transcription,
    validate,
)


def _limit_options(command, notebook_seconds: float) -> None:
    command.add_argument("--cell-timeout", type=float, default=300, help="seconds per cell")
    command.add_argument("--notebook-timeout", type=float, default=notebook_seconds, help="seconds per notebook")
    command.add_argument("--memory", type=float, default=4, help="GiB per kernel")


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
    _limit_options(grade_command, 1200)
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

    from jaxcourse.grading.out.platform_results import PLATFORMS, VISIBILITY

    platform_command = commands.add_parser("autograder", help="build the grader Gradescope or PrairieLearn runs")
    platform_command.add_argument("assignment", help="assignment name, e.g. 01_xor")
    platform_command.add_argument("--for", dest="platform", required=True, choices=PLATFORMS, help="the platform")
    platform_command.add_argument("-o", "--output", default="build/autograders", help="folder it goes in")
    platform_command.add_argument("--hidden", choices=VISIBILITY, help="when students see the hidden checks' "
                                  "lines (default: after_published on Gradescope, visible on PrairieLearn)")
    platform_command.add_argument("--image", help="PrairieLearn: the image's name on Docker Hub")
    _limit_options(platform_command, 480)
    platform_command.set_defaults(handler=autograder)

    forget_command = commands.add_parser("forget", help="remove students of a mistaken run from an assignment")
    forget_command.add_argument("assignment", help="assignment name, e.g. 01_xor")
    forget_command.add_argument("students", nargs="+", help="student ids")
    forget_command.add_argument("--course-dir", default="grading", help="the folder `jaxcourse grade` kept")
    forget_command.set_defaults(handler=forget)

    audit_command = commands.add_parser("audit", help="mutation analysis: do hidden tests catch plausible mistakes?")
    audit_command.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    audit_command.add_argument("--cap", type=int, default=8,
                               help="mutants per task, spread over kinds (default 8; fewer: not recorded)")
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
