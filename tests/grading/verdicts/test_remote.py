"""Tests in a kernel of their own: only plain data crosses, hidden code never stays with a student."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from jaxcourse.grading.intake.steps import Step
from jaxcourse.grading.sandbox.settings import Limits, Sandbox
from jaxcourse.grading.verdicts import relay, runner, wire


def test_plain_data_crosses_and_comes_back_the_same():
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.key(3), 2)
    value = {"a": (1, 2.5, "x", None, True, b"\x00\xff"), 3: [np.arange(6).reshape(2, 3), np.float32(1.5)],
             "j": jnp.ones((2, 2), jnp.bfloat16), "k": keys, ("t", 1): np.zeros((0, 4))}
    back = wire.decode(wire.encode(value))
    assert back["a"] == value["a"] and back[("t", 1)].shape == (0, 4)
    assert back[3][0].tolist() == [[0, 1, 2], [3, 4, 5]] and type(back[3][1]) is np.float32
    assert isinstance(back["j"], jax.Array) and back["j"].dtype == jnp.bfloat16
    assert (jax.random.key_data(back["k"]) == jax.random.key_data(keys)).all()


def test_anything_with_behaviour_does_not_cross():
    class Lies(float):
        def __eq__(self, other):
            return True

    for value in (Lies(1.0), object(), lambda: 1, np.array([object()]), (1, {"x": Lies(2.0)})):
        with pytest.raises(TypeError):
            wire.encode(value)
    assert json.loads(wire.encode(Lies(1.0), refer=lambda v: 7)) == {"$r": [7, "Lies"]}
    # a dict whose keys are not plain data stays behind whole; a bytearray crosses as bytes
    assert json.loads(wire.encode({(3, np.dtype("f4")): 1}, refer=lambda v: 8)) == {"$r": [8, "dict"]}
    assert wire.decode(wire.encode(bytearray(b"ab"))) == b"ab"


@pytest.mark.parametrize("text, why", [
    ('{"$p": "gASVBQAAAAAAAACMAXiULg=="}', "unknown tag"),
    ('{"$a": ["object", [1], "AA==", "numpy"]}', "dtype"),
    ('{"$a": ["float64", [2], "AAAAAAAAAAA=", "numpy"]}', "bytes do not match"),
    ('{"$a": ["float64", [-1], "", "numpy"]}', "malformed array"),
    ('{"$d": [[[1, 2], 3]]}', "hashable"),
    ('{"$r": [1, "Model"]}', "unknown tag"),  # a reference where none may be
    ('{"a": 1, "b": 2}', "malformed data"),
    ("[" * 5000 + "]" * 5000, "not JSON|nested"),
])
def test_decoding_refuses_what_it_did_not_write(text, why):
    with pytest.raises(wire.WireError, match=why):
        wire.decode(text)


def test_a_test_is_read_for_every_name_it_reads_before_binding_it_and_how_its_first_line_starts():
    code = ("import numpy as np\n_x = forward(params, X)\ndef _f(a):\n    return helper(a) + _x\n"
            "for _n in range(3):\n    _y = _f(_n) + model\nmodel = 1\n_g = [_k for _k in _seen]\n"
            "_z = 1\n_z += loss\nwith open(path) as _h:\n    _h.read()\n")
    names, starts_simply = relay.read_test(code)
    assert set(names) == {"forward", "params", "X", "helper", "range", "model", "_seen", "loss", "open", "path"}
    assert starts_simply
    # a hidden part's own helper and inputs are never named to the student's kernel
    hidden = "def _forward_numpy(layers, x):\n    return x\n_x = np.ones(3)\ncheck(forward(_x), _forward_numpy(1, _x))\n"
    assert set(relay.read_test(hidden)[0]) == {"np", "check", "forward"}
    assert relay.read_test("x = f(x)")[0] == ("f", "x")  # read before it is bound: the student's
    assert relay.read_test("def (:") == ((), False)
    assert not relay.read_test("expect_close(\n    forward(X), Y)")[1]
    assert not relay.read_test("for x in X:\n    check(x)")[1]


def _run(steps, **limits):
    return runner.run_steps(steps, Sandbox(limits=Limits(**limits), isolate=os.geteuid() == 0))


def _text(outcome) -> str:
    return "".join(o.get("text", "") + o.get("evalue", "") for o in outcome.outputs)


SETUP = Step("locked", "setup", "import jax, jax.numpy as jnp, numpy as np\nimport os\nX = jnp.arange(4.0)\nKERNEL = os.urandom(6).hex()")
ANSWER = Step("answer", "task-01", """
class Model:
    def __init__(self):
        self.w = jnp.ones(3)
    def __call__(self, x):
        return self.w * x
    def parts(self):
        return (self.w, {"n": 3})

def double(x):
    return 2 * x

def broken(x):
    raise ValueError("my own bug")

model = Model()
SCALE = 2.0
print("kernel", KERNEL)
""")
WHO = Step("answer", "task-02", "print('kernel', KERNEL)")


@pytest.mark.slow
def test_a_test_sees_the_students_names_only_as_plain_data_and_stand_ins():
    check = Step("test", "test-01", """
from jaxcourse.checks import expect_close, expect_true
from jaxcourse.grading.verdicts.remote import Remote, StudentError
expect_close(double(X), 2 * np.arange(4.0))
expect_true(isinstance(double, Remote) and isinstance(model, Remote), "stand-ins")
expect_true(type(SCALE) is float and SCALE == 2.0, "a number is copied")
expect_close(model(2.0), [2.0, 2.0, 2.0])
expect_close(model.w, np.ones(3))
w, info = model.parts()
expect_true(info == {"n": 3}, "a dict comes back as a dict")
try:
    broken(1.0)
except StudentError as err:
    expect_true("ValueError: my own bug" in str(err), str(err))
else:
    raise AssertionError("the student's error did not come back")
print("all good")
""")
    run = _run([SETUP, ANSWER, check])
    result = run.results[-1]
    assert result.passed, (result.visible.error, _text(result.visible))
    assert "all good" in _text(result.visible)


@pytest.mark.slow
def test_a_students_error_reaches_the_traceback_without_the_graders_frames():
    check = Step("test", "test-01", "expect_close = None\nbroken(1.0)")
    run = _run([SETUP, ANSWER, check])
    outcome = run.results[-1].visible
    assert outcome.status == "error"
    traceback = relay.COLOUR.sub("", "\n".join(line for o in outcome.outputs for line in o.get("traceback", [])))
    assert "my own bug" in traceback and "broken(1.0)" in traceback, traceback
    assert "jaxcourse/grading" not in traceback and "__jaxcourse" not in traceback, traceback


SPY = Step("answer", "spy", """
import sys
_compiled = []

def _spy(event, args):
    if event in ("compile", "exec") and args and isinstance(args[0], (str, bytes)):
        _compiled.append(str(args[0]))

sys.addaudithook(_spy)
""")
LEAK_CHECK = """
import gc, inspect, linecache
_texts = list(globals().get("_compiled", ["no spy"]))
_texts += ["".join(e[2]) for e in linecache.cache.values() if len(e) > 2]
_texts += [c.co_filename for c in (getattr(f, "__code__", None) for f in gc.get_objects()) if c is not None]
_texts += [inspect.getsource(f) for f in gc.get_objects() if inspect.isfunction(f) and f.__module__ is None]
print("SECRET_" + "HIDDEN_MARK" in "\\n".join(_texts), "kernel", KERNEL)
"""


@pytest.mark.slow
def test_hidden_code_handed_over_never_reaches_the_student_again():
    visible = ("from jaxcourse.checks import expect_close, in_student\n\n@in_student\ndef _twice(x):\n"
               "    return double(x)\n\nexpect_close(_twice(1.0), 2.0)\n")
    public_call = Step("test", "test-01", visible, hidden="expect_close(_twice(3.0), 6.0)\n")
    handed = Step("test", "test-02", "expect_close(double(1.0), 2.0)\n", hidden=(
        "@in_student\ndef _secret(x):\n    # SECRET_HIDDEN_MARK\n    return jax.grad(lambda v: double(v))(x)\n"
        "expect_close(_secret(1.0), 2.0)\nprint('SECRET_HIDDEN_MARK in a message')\n"))
    wrong = Step("test", "test-03", "expect_close(double(1.0), 2.0)\n", hidden=(
        "@in_student\ndef _secret2(x):\n    return double(x)\nexpect_close(_secret2(1.0), 5.0, 'SECRET_HIDDEN_MARK')\n"))
    reader = Step("answer", "reader", LEAK_CHECK)
    run = _run([SETUP, ANSWER, SPY, public_call, WHO, handed, reader, wrong, reader])
    by_cell = {}
    for result in run.results:
        by_cell.setdefault(result.cell, []).append(result)
    kernels = [_text(r.visible).split("kernel")[-1].strip() for r in run.results if r.cell != "spy" and r.kind == "answer"]
    assert kernels[0] == kernels[1], "a helper from the visible tests hid nothing: the kernel was kept"
    assert kernels[2] != kernels[1] and kernels[3] != kernels[2], "a kernel handed hidden code was replaced"
    assert all(_text(r.visible).startswith("False") for r in by_cell["reader"]), [_text(r.visible) for r in run.results]
    assert by_cell["test-02"][0].passed and by_cell["test-03"][0].hidden.status == "error"
    for result in run.results:
        shown = _text(result.visible) + (_text(result.hidden) + result.hidden.error if result.hidden else "")
        assert "SECRET_HIDDEN_MARK" not in shown, (result.cell, shown)
    assert "not shown" in _text(by_cell["test-02"][0].hidden)


@pytest.mark.slow
def test_a_student_kernel_that_hangs_in_a_test_costs_that_test_only():
    hang = Step("answer", "task-02", "def stuck(x):\n    while True:\n        pass\n")
    check = Step("test", "test-01", "from jaxcourse.checks import expect_close\nexpect_close(stuck(1.0), 1.0)\n")
    after = Step("test", "test-02", "expect_close(double(2.0), 4.0)\n")
    run = _run([SETUP, ANSWER, hang, check, after], cell_seconds=5)
    assert not run.results[3].passed and run.results[4].passed, [r.visible.error for r in run.results]


@pytest.mark.slow
def test_a_course_cell_after_the_tests_that_uses_the_students_names_does_not_hang_the_test_kernel():
    check = Step("test", "test-01", "from jaxcourse.checks import expect_close\nexpect_close(double(1.0), 2.0)\n")
    demo = Step("locked", "demo", "print(double(3.0))")  # a course cell showing the student's work
    after = Step("test", "test-02", "expect_close(double(2.0), 4.0)\n")
    run = _run([SETUP, ANSWER, check, demo, after], cell_seconds=30)
    assert [r.passed for r in run.results] == [True] * 5, [r.visible.error for r in run.results]
    assert run.seconds < 25, f"{run.seconds:.0f} s: the test kernel waited for an answer nobody relays"


@pytest.mark.slow
def test_a_test_kernel_lent_again_holds_nothing_of_the_notebook_before():
    from jaxcourse.grading.verdicts import pool

    box = Sandbox(limits=Limits(), isolate=os.geteuid() == 0, env={"JAXCOURSE_PROBE": "lent"})
    first = Step("test", "test-01", """
from jaxcourse.checks import expect_true
import random
expect_true(SCALE == 2.0 and not isinstance(double, str), "the first student's names")
_left_behind = "first"
np.random.seed(123)
random.seed(123)
jax.config.update("jax_enable_x64", True)
np.testing.assert_allclose = lambda *a, **k: None
""")
    second = Step("test", "test-01", """
from jaxcourse.checks import expect_true
import random
expect_true("_left_behind" not in globals(), "a name a test defined for another notebook")
expect_true("SCALE" not in globals() and "double" not in globals(), "another student's names")
expect_true(np.random.get_state()[1][0] == START_NP and random.random() == START_PY, "random state")
expect_true(not jax.config.jax_enable_x64, "JAX's configuration")
try:
    np.testing.assert_allclose(1.0, 2.0)
except AssertionError:
    pass
else:
    raise AssertionError("a function a test replaced is still replaced")
""")
    probe = Step("locked", "setup", SETUP.source + "\nimport random\nSTART_NP = np.random.get_state()[1][0]\n"
                 "_state = random.getstate()\nSTART_PY = random.random()\nrandom.setstate(_state)")
    pool.close_all()  # test kernels other tests in this process left idle
    try:
        one = runner.run_steps([probe, ANSWER, first], box)
        lent = [k for kernels in pool._idle.values() for k in kernels]
        two = runner.run_steps([probe, Step("answer", "task-01", "print('nothing defined')"), second], box)
        again = [k for kernels in pool._idle.values() for k in kernels]
    finally:
        pool.close_all()
    assert one.results[-1].passed, one.results[-1].visible.error
    assert len(lent) == 1 and again == lent, "the same test kernel was lent to both notebooks"
    assert two.results[-1].passed, two.results[-1].visible.error


def _fail_in_cell(source: str):
    """Run `source` as IPython runs a cell (its own file name, its lines in linecache); return the
    exception and traceback it raised."""
    import linecache
    import sys

    name = "/tmp/ipykernel_1/4242.py"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    try:
        exec(compile(source, name, "exec"), {})
    except Exception:
        return sys.exc_info()[1], sys.exc_info()[2]
    raise AssertionError("the cell did not fail")


def test_a_failed_check_is_described_without_its_values_or_inputs():
    from jaxcourse.grading.verdicts.remote import StudentError, failure_summary

    error, tb = _fail_in_cell(
        "from jaxcourse.checks import expect_close\n_n = 7\n"
        "for _i in range(2):\n"
        "    expect_close([_n * 10.0], [_n * 1.0], f'safe_norm of {_n} rows (two of them zero)')\n")
    line = failure_summary(error, tb)
    assert line == "values differ: safe_norm of … rows (two of them zero)"
    assert "7" not in line and "70" not in line

    error, tb = _fail_in_cell(
        "from jaxcourse.checks import expect_close\nfrom jaxcourse.grading.verdicts.remote import StudentError\n"
        "def safe_norm(x):\n    raise StudentError('ValueError: bad shape (7, 3)', 'ValueError', 'safe_norm')\n"
        "_got = safe_norm([1.0])\n"
        "expect_close(_got, [1.0], 'safe_norm of rows that are partly zero')\n")
    assert failure_summary(error, tb) == "your safe_norm raised ValueError: safe_norm of rows that are partly zero"
    assert isinstance(error, StudentError)

    error, tb = _fail_in_cell("import numpy as np\nnp.add('a', 1)\n")
    assert failure_summary(error, tb) == "the check could not use what your code gave back (UFuncTypeError)"
