"""shows_error: an error shown on purpose prints what a student would see, and never lies."""

import io
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

from jaxcourse.errors import shows_error


def _shown(expected, block, **kwargs) -> tuple[str, shows_error]:
    out = io.StringIO()
    with shows_error(expected, file=out, **kwargs) as shown:
        block()
    return out.getvalue(), shown


def test_the_expected_error_is_printed_whole_and_swallowed():
    def loss(w):
        return w * 2.0  # one value per example, not a scalar

    text, shown = _shown(TypeError, lambda: jax.grad(loss)(jnp.ones(4)))
    assert isinstance(shown.error, TypeError)
    last = text.splitlines()[-1]
    assert last == f"TypeError: {shown.error}"
    assert last.startswith("TypeError: Gradient only defined for scalar-output functions.")
    assert "Output had shape: (4,)." in last


def test_jax_errors_are_named_with_their_module_and_keep_every_line():
    @jax.jit
    def relu_if(x):
        if x > 0:
            return x
        return 0.0

    text, shown = _shown(jax.errors.TracerBoolConversionError, lambda: relu_if(3.0))
    message = str(shown.error)
    assert "\n" in message  # JAX's message spans several lines; none may be lost
    assert text.endswith(f"jax.errors.TracerBoolConversionError: {message}\n")
    assert "https://docs.jax.dev/en/latest/errors.html" in text
    # the innermost line of this file is the one a traceback would point at
    assert re.search(r"^line \d+, in relu_if: if x > 0:$", text, flags=re.M), text


def test_a_parent_type_is_enough():
    text, shown = _shown(TypeError, lambda: jax.jit(lambda x: float(x))(1.0))
    assert isinstance(shown.error, jax.errors.ConcretizationTypeError)
    assert "jax.errors.ConcretizationTypeError: Abstract tracer value encountered" in text


def test_nothing_raised_fails_loudly():
    out = io.StringIO()
    with pytest.raises(AssertionError, match="expected TypeError, but the block raised nothing"):
        with shows_error(TypeError, file=out):
            jnp.ones(3).sum()
    assert out.getvalue() == ""


def test_another_type_fails_loudly_and_keeps_the_real_error():
    with pytest.raises(AssertionError, match="expected ValueError, but the block raised ZeroDivisionError") as info:
        with shows_error(ValueError, file=io.StringIO()):
            1 / 0  # noqa: B018
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_a_tuple_of_types_and_a_message_pattern():
    _, shown = _shown((KeyError, IndexError), lambda: [][1], match="out of range")
    assert isinstance(shown.error, IndexError)
    with pytest.raises(AssertionError, match="does not match 'tuple': list index out of range"):
        _shown(IndexError, lambda: [][1], match="tuple")


def test_interrupts_are_never_swallowed_or_disguised():
    with pytest.raises(KeyboardInterrupt):
        with shows_error(ValueError, file=io.StringIO()):
            raise KeyboardInterrupt


def test_not_an_exception_type_is_refused():
    with pytest.raises(TypeError, match="wants an exception type"):
        shows_error("TypeError")


def test_in_ipython_the_line_is_the_cells(tmp_path):
    """Run as IPython runs a cell: the printed line is the cell's, with its number in the cell."""
    script = tmp_path / "cell.py"
    script.write_text(
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "cell = '''import jax.numpy as jnp\n"
        "from jaxcourse.errors import shows_error\n"
        "w = jnp.zeros(5)\n"
        "with shows_error(TypeError):\n"
        "    w[0] = 1.0\n"
        "print('the notebook goes on')\n'''\n"
        "result = shell.run_cell(cell)\n"
        "assert result.success, result.error_in_exec\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert lines[-2] == "Cell In[1], line 5: w[0] = 1.0"  # as IPython's own tracebacks name it
    assert lines[-1].startswith("TypeError: JAX arrays are immutable and do not support in-place item assignment.")
    assert done.stdout.strip().endswith("the notebook goes on")


class _BufferedStdout(io.StringIO):
    """Stands in for a Jupyter kernel's stdout: what is printed reaches the shared log only when
    flushed, while the error stream writes to the log at once."""

    def __init__(self, log: list[str]):
        super().__init__()
        self.log, self.pending = log, []

    def write(self, text: str) -> int:
        self.pending.append(text)
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.log.append("".join(self.pending))
            self.pending = []


class _ImmediateStream(io.StringIO):
    def __init__(self, log: list[str]):
        super().__init__()
        self.log = log

    def write(self, text: str) -> int:
        self.log.append(text)
        return len(text)


def test_what_was_printed_before_the_error_comes_first(monkeypatch):
    log: list[str] = []
    monkeypatch.setattr(sys, "stdout", _BufferedStdout(log))
    print("jnp.add(int32, float32) -> float32")
    with shows_error(TypeError, file=_ImmediateStream(log)):
        jax.lax.add(jnp.int32(1), jnp.float32(1.0))
    print("after")
    sys.stdout.flush()
    assert log[0] == "jnp.add(int32, float32) -> float32\n"
    assert log[1].splitlines()[-1].startswith("TypeError: ")
    assert log[2] == "after\n"


@pytest.mark.slow
def test_in_a_kernel_the_outputs_keep_their_order():
    """In a real Jupyter kernel the cell's outputs are, in order: the print, the error, the print."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cell = ("from jaxcourse.errors import shows_error\n"
            "print('before')\n"
            "with shows_error(ZeroDivisionError):\n"
            "    1 / 0\n"
            "print('after')\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nbclient.NotebookClient(nb, timeout=120).execute()
    outputs = [(out.get("name"), out.get("text", "")) for out in nb.cells[0].outputs]
    assert [name for name, _ in outputs] == ["stdout", "stderr", "stdout"], outputs
    assert outputs[0][1] == "before\n" and outputs[2][1] == "after\n"
    assert outputs[1][1].rstrip().endswith("ZeroDivisionError: division by zero")
