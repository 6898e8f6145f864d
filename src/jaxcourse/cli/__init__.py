"""`jaxcourse`: the one command the Makefile and CI call."""

from __future__ import annotations

import sys

from jaxcourse.cli.handlers import benchmarks
from jaxcourse.cli.parser import build_parser

__all__ = ["benchmarks", "build_parser", "main"]


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
