"""Show an error on purpose, without stopping the notebook.

The chapters show each sharp bit by running the mistake and printing what JAX says:

    with shows_error(TypeError):
        jax.grad(per_example_loss)(params, X, Y)

prints the offending line of the cell and JAX's whole message, the last lines a traceback would
show, and the notebook goes on, under Run All in any front end (JupyterLab, Colab, VS Code),
papermill and nbconvert alike. It is honest: when the block raises nothing, or raises another
type of error, it fails with an AssertionError that stops the notebook like any other error.
"""

from __future__ import annotations

import re
import sys
import traceback
from types import TracebackType

__all__ = ["shows_error"]

# How IPython names the code of a cell: `<ipython-input-3-1a2b3c>` (IPython), a temporary file
# such as `/tmp/ipykernel_4242/1234567.py` (ipykernel), `<cell line: 2>`-style names elsewhere.
_CELL_FILE = re.compile(r"^<ipython-input-|[/\\]ipykernel_\d+[/\\]\d+\.py$|^<cell")


_JAX_FILTER_NOTE = "For simplicity, JAX has removed its internal frames"


def _name(kind: type[BaseException] | tuple[type[BaseException], ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(_name(k) for k in kind)
    module = kind.__module__
    return kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"


def _line(tb: TracebackType | None) -> traceback.FrameSummary | None:
    """The frame a reader wants: the innermost one in a notebook cell (or in the file that holds
    the `with` block), else the innermost of all."""
    frames = traceback.extract_tb(tb)
    if not frames:
        return None
    home = frames[0].filename  # the frame that runs the `with` block
    for frame in reversed(frames):
        if frame.filename == home or _CELL_FILE.search(frame.filename or ""):
            return frame
    return frames[-1]


def _where(frame: traceback.FrameSummary) -> str:
    """`Cell In[5], line 7, in predict` as IPython's tracebacks say it (`line 7, in predict`
    outside IPython): the cell may be an earlier one, where the function was defined."""
    parts = [f"line {frame.lineno}"]
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    compiler = getattr(shell, "compile", None)
    if hasattr(compiler, "format_code_name"):
        named = compiler.format_code_name(frame.filename)
        if named:
            parts.insert(0, " ".join(named))  # ("Cell", "In[5]")
    if frame.name != "<module>":
        parts.append(f"in {frame.name}")
    return ", ".join(parts)


class shows_error:  # lower case: it reads like a function, `with shows_error(TypeError):`
    """Context manager: the block must raise `expected` (a type or a tuple of types).

    On the expected error it prints the line that raised and `Type: message` (the message whole,
    notes included), keeps the exception as `.error`, and lets the notebook continue. Nothing
    raised, or another type raised, is an AssertionError. `match`, a regular expression, must
    then also be found in the message.
    """

    def __init__(self, expected: type[BaseException] | tuple[type[BaseException], ...],
                 match: str | None = None, *, file=None):
        kinds = expected if isinstance(expected, tuple) else (expected,)
        if not kinds or not all(isinstance(k, type) and issubclass(k, BaseException) for k in kinds):
            raise TypeError(f"shows_error wants an exception type (or a tuple of them), got {expected!r}")
        self.expected = expected
        self.match = match
        self.file = file
        self.error: BaseException | None = None

    def __enter__(self) -> shows_error:
        return self

    def __exit__(self, kind, error, tb) -> bool:
        if kind is None:
            raise AssertionError(f"expected {_name(self.expected)}, but the block raised nothing")
        if not issubclass(kind, self.expected):
            if not issubclass(kind, Exception):
                return False  # KeyboardInterrupt, SystemExit: never turn those into something else
            raise AssertionError(
                f"expected {_name(self.expected)}, but the block raised {_name(kind)}: {error}"
            ) from error
        if self.match is not None and not re.search(self.match, str(error)):
            raise AssertionError(
                f"{_name(kind)} was raised as expected, but its message does not match "
                f"{self.match!r}: {error}"
            ) from error
        self.error = error
        out = self.file or sys.stderr
        # What the cell printed before the error must come first. Jupyter's kernel buffers stdout
        # and sends stderr at once, so without this flush the error shows above earlier prints.
        if sys.stdout is not None and sys.stdout is not out:
            sys.stdout.flush()
        out.write(self.report(error, tb) + "\n")  # one write: one stream output in the notebook
        out.flush()
        return True  # swallowed: the cell, and the notebook, go on

    @staticmethod
    def report(error: BaseException, tb: TracebackType | None = None) -> str:
        """What a student sees: where it was raised, then `Type: message` as a traceback ends."""
        lines = []
        frame = _line(tb if tb is not None else error.__traceback__)
        if frame is not None and frame.line:
            lines.append(f"{_where(frame)}: {frame.line.strip()}")
        message = str(error)
        lines.append(f"{_name(type(error))}: {message}" if message else _name(type(error)))
        # notes (PEP 678) as Python prints them, except JAX's remark about its hidden frames
        lines += [str(note) for note in getattr(error, "__notes__", ())
                  if _JAX_FILTER_NOTE not in str(note)]
        return "\n".join(lines)
