"""Tests in a trusted kernel, the student's names served from the student's kernel.

A graded notebook runs in two sandboxed kernels. The student's kernel runs the course's cells
and the student's; it never sees a test cell. The test kernel runs the course's cells and the
test cells, visible and hidden; no student code ever runs in it. A name a test uses that the
test kernel lacks is the student's: it is bound to the student's value when that is plain data
(`wire`), otherwise to a `Remote`, a stand-in whose calls, attributes and items are asked of
the student's kernel. Arguments go there as plain data and answers come back as plain data, so
whether a test passes, and every reference value it computes, stay in the test kernel.

A test that must hand code to the student's side (take `jax.grad` of the student's function,
pass it a loss function) marks a helper with `jaxcourse.checks.in_student`: its source runs in
the student's kernel, which the grader then treats as having seen that test (`runner`).

The two kernels talk through the grader, over Jupyter's stdin channel: a request is the prompt
of an `input()` call and its answer is the reply, so nothing but text crosses.
"""

from __future__ import annotations

import builtins
import inspect
import json
import sys
import textwrap

from jaxcourse.course.descriptions import check_calls, description_template
from jaxcourse.grading.verdicts import wire

SERVE_NAME = "__jaxcourse_serve__"
BIND_NAME = "__jaxcourse_bind__"
SNAPSHOT_NAME = "__jaxcourse_snapshot__"
RESET_NAME = "__jaxcourse_reset__"
FAILURE_NAME = "__jaxcourse_failure__"
SNIPPET = "snippet"
READY = "ready"  # the server's first prompt; every later one is an answer
MAX_VALUE_CHARS = 1_000_000  # a student's value bound by value in the test kernel; larger: a Remote


def exchange(kernel, prompt: str) -> str:
    """`input(prompt)` without ipykernel's extras (flushing output, 10 ms polls): about 1 ms."""
    import zmq

    parent = kernel.get_parent("shell")
    ident = kernel._get_shell_context_var(kernel._shell_parent_ident)
    kernel.session.send(kernel.stdin_socket, "input_request", {"prompt": prompt, "password": False},
                        parent, ident=ident)
    while True:
        if kernel.stdin_socket.poll(100, zmq.POLLIN):  # short waits: an interrupt gets through
            _, reply = kernel.session.recv(kernel.stdin_socket)
            if reply is not None:
                return str(reply.get("content", {}).get("value", ""))


# The student's side ------------------------------------------------------------------------------

def install_server(shell) -> None:
    """Publish `__jaxcourse_serve__` in the student's kernel: each call answers one request."""
    handles: dict[int, object] = {}

    def refer(value) -> int:
        handles[len(handles) + 1] = value
        return len(handles)

    def resolve(number: int, name: str):
        if number == -1:  # by name
            return shell.user_ns[name]
        if number not in handles:
            raise KeyError(f"no object {number} in the student's kernel (it was restarted)")
        return handles[number]

    def lookup(target):
        return shell.user_ns[target] if type(target) is str else resolve(target, "")

    def answer(request: dict):
        op = request["op"]
        if op == "describe":
            found = {}
            for name in request["names"]:
                if name not in shell.user_ns:
                    continue
                value = shell.user_ns[name]
                try:
                    text = wire.encode(value)
                except TypeError:
                    text = ""
                found[name] = text if 0 < len(text) <= MAX_VALUE_CHARS else None
            return found
        args = wire.decode_value(request.get("args", {"$t": []}), resolve)
        kwargs = wire.decode_value(request.get("kwargs", {"$d": []}), resolve)
        if op == SNIPPET:
            namespace = dict(shell.user_ns)
            exec(compile(request["source"], "<test>", "exec"), namespace)
            return namespace[request["name"]](*args, **kwargs)
        target = lookup(request["target"])
        if op == "call":
            return target(*args, **kwargs)
        if op == "getattr":
            return getattr(target, request["name"])
        if op == "getitem":
            return target[args[0]]
        if op == "len":
            return len(target)
        if op == "value":
            import numpy as np

            return np.asarray(target)
        raise ValueError(f"unknown request {op!r}")

    def respond(text: str) -> str:
        try:
            request = json.loads(text)
            value = answer(request)
            if request["op"] == "describe":
                return json.dumps({"described": value})
            return json.dumps({"value": wire.encode_value(value, refer)})
        except (Exception, SystemExit, GeneratorExit) as err:  # the student's errors go back as text
            return json.dumps({"error": [type(err).__name__, str(err)[:2000]]})

    def serve() -> None:
        """Answer requests until an empty one: each answer is the prompt that asks for the next.
        An interrupt (the grader's time limit) ends the cell."""
        try:
            text = exchange(shell.kernel, READY)
            while text:
                text = exchange(shell.kernel, respond(text))
        except KeyboardInterrupt:
            return

    setattr(builtins, SERVE_NAME, serve)


# The test kernel's side --------------------------------------------------------------------------

class ErrorInYourCode(Exception):
    """The student's code raised this (its type name and message, as text) in the student's kernel:
    a test's traceback shows this name, so it says what it is. `kind`: the type's name;
    `function`: the student's name that was called, when it was one."""

    def __init__(self, message: str, kind: str = "", function: str = ""):
        super().__init__(message)
        self.kind = kind
        self.function = function


def _failing_check(tb) -> str:
    """The description of the check the failing line of a test cell belongs to: the check call on
    that line, else the first one after it (a value computed for it, say)."""
    import linecache

    cell = None
    while tb is not None:  # the outermost frame of a cell's own code: IPython's are files on disk
        code = tb.tb_frame.f_code
        cell_file = "ipykernel_" in code.co_filename or not code.co_filename.endswith(".py")
        if code.co_name == "<module>" and cell_file:
            cell = tb
            break
        tb = tb.tb_next
    if cell is None:
        return ""
    line = cell.tb_lineno
    calls = check_calls("".join(linecache.getlines(cell.tb_frame.f_code.co_filename)))
    around = [c for c in calls if c.lineno <= line <= (c.end_lineno or c.lineno)]
    after = [c for c in calls if c.lineno > line]
    chosen = around[-1] if around else after[0] if after else None
    return description_template(chosen) if chosen is not None else ""


def failure_summary(error: BaseException | None, tb=None) -> str:
    """One line on a failed test part that a student may see even for a hidden test: how it failed
    and what the failing check checks, as its description is written in the test (values filled in
    at run time shown as "…"); never the test's code, inputs or expected values."""
    from jaxcourse.checks import CheckFailed

    if error is None:
        return ""
    what = _failing_check(tb)
    if isinstance(error, CheckFailed):
        how = error.kind
    elif isinstance(error, ErrorInYourCode) and error.kind == "GraderError":  # the grader's words: why no answer came
        how = str(error).removeprefix("GraderError: ")[:200]
    elif isinstance(error, ErrorInYourCode):
        how = f"your {error.function} raised {error.kind or 'an error'}" if error.function else \
            f"your code raised {error.kind or 'an error'}"
    else:
        how = f"the check could not use what your code gave back ({type(error).__name__})"
    return f"{how}: {what}" if what else how


class Remote:
    """A value that lives in the student's kernel: a function, a model, an optimizer."""

    __slots__ = ("_target", "_label")

    def __init__(self, target, label: str):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_label", label)

    def __repr__(self) -> str:
        return f"<{self._label} in the student's kernel>"

    def __call__(self, *args, **kwargs):
        return ask({"op": "call", "target": self._target}, args, kwargs,
                   function=self._target if type(self._target) is str else "")

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return ask({"op": "getattr", "target": self._target, "name": name})

    def __setattr__(self, name, value):
        raise AttributeError("a test cannot change an object in the student's kernel")

    def __getitem__(self, key):
        return ask({"op": "getitem", "target": self._target}, (key,))

    def __len__(self) -> int:
        size = ask({"op": "len", "target": self._target})
        if type(size) is not int:
            raise ErrorInYourCode("len() of a student's object did not give an int")
        return size

    def __iter__(self):
        return iter([self[i] for i in range(len(self))])

    def __array__(self, dtype=None, copy=None):
        import numpy as np

        value = ask({"op": "value", "target": self._target})
        return np.asarray(value, dtype=dtype)

    def __float__(self) -> float:
        return float(self.__array__())

    def __int__(self) -> int:
        return int(self.__array__())

    def __bool__(self) -> bool:
        return bool(self.__array__())


def _refer(value) -> int:
    if isinstance(value, Remote) and type(value._target) is int:
        return value._target
    raise TypeError(f"a {type(value).__name__} cannot be sent to the student's kernel")


def _encode_argument(value, depth: int = 0):
    if isinstance(value, Remote):
        if type(value._target) is str:
            return {"$r": [-1, value._target]}  # by name: looked up again on the student's side
        return {"$r": [value._target, value._label]}
    return wire.encode_value(value, _refer, depth)


def _resolve(number: int, name: str) -> Remote:
    return Remote(number, name)


def _raw_input(prompt: str) -> str:
    kernel = get_ipython().kernel  # noqa: F821 (the test kernel is an IPython kernel)
    if not kernel._allow_stdin:  # a course cell run here for its names, not a test: nobody relays
        raise ErrorInYourCode("the student's names are reachable from test cells only")
    return exchange(kernel, prompt)


def ask(request: dict, args: tuple = (), kwargs: dict | None = None, op_line: str = "ask", function: str = ""):
    """Send one request to the student's kernel and return its answer (plain data or Remotes).
    `function`: the student's name being called, for the one line a failure shows."""
    __tracebackhide__ = True
    if args or kwargs:
        request["args"] = {"$t": [_encode_argument(a) for a in args]}
        request["kwargs"] = {"$d": [[k, _encode_argument(v)] for k, v in (kwargs or {}).items()]}
    answer = json.loads(_raw_input(f"{op_line}\n{json.dumps(request)}"))
    if "error" in answer:
        kind, message = answer["error"]
        who = f"your {function}" if function else "your code"
        said = f"{who} raised {kind}: {message}" if message else f"{who} raised {kind}"
        raise ErrorInYourCode(said if kind != "GraderError" else f"{kind}: {message}", str(kind)[:100], function)
    if "described" in answer:
        return answer["described"]
    return wire.decode_value(answer["value"], _resolve)


def _source_of(function) -> str:
    lines = textwrap.dedent(inspect.getsource(function)).splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(("def ", "async def ")))
    return "\n".join(lines[start:]) + "\n"


def in_student(function):
    """The test kernel's `jaxcourse.checks.in_student`: run `function`'s source in the student's
    kernel with the arguments given (plain data), and return its answer."""
    source = _source_of(function)
    name = function.__name__

    def run_there(*args, **kwargs):
        return ask({"op": SNIPPET, "source": source, "name": name}, args, kwargs, op_line=SNIPPET)

    run_there.__name__ = name
    return run_there


def install_tests(shell) -> None:
    """Set up the test kernel: `in_student` sends code across, `__jaxcourse_bind__` fetches names,
    `__jaxcourse_snapshot__` (after the course's cells) and `__jaxcourse_reset__` (after each
    notebook) let one test kernel serve notebook after notebook, each from the same state."""
    import random
    import secrets

    import numpy as np

    import jaxcourse.checks
    from jaxcourse.grading.sandbox import guard

    jaxcourse.checks.in_student = in_student
    bound: dict[str, object] = {}
    saved: dict[str, object] = {}

    def snapshot() -> None:
        saved.update(namespace=dict(shell.user_ns), numpy=np.random.get_state(), random=random.getstate())
        guard.install(secrets.token_hex(16), shell)  # what the tests rely on, put back at each reset

    def reset() -> None:
        shell.user_ns.clear()
        shell.user_ns.update(saved["namespace"])
        bound.clear()
        np.random.set_state(saved["numpy"])
        random.setstate(saved["random"])
        getattr(builtins, guard.GUARD_NAME)(secrets.token_hex(8))

    setattr(builtins, SNAPSHOT_NAME, snapshot)
    setattr(builtins, RESET_NAME, reset)
    jaxcourse.checks.naming = False  # the grader names a known mistake from the whole task's behaviour

    # the last failure (IPython keeps the exception it showed in sys.last_value): its one line, and
    # for a failed check, the check and the numbers the cell's checks saw (`jaxcourse mistakes`)
    def last_failure() -> None:
        error = getattr(sys, "last_value", None)
        check = [error.what, error.kind, *error.seen] if isinstance(error, jaxcourse.checks.CheckFailed) else None
        print(json.dumps({"summary": failure_summary(error, getattr(sys, "last_traceback", None)), "check": check}),
              end="")
        sys.last_type = sys.last_value = sys.last_traceback = None  # never read twice

    setattr(builtins, FAILURE_NAME, last_failure)

    def bind(names: list[str]) -> None:
        namespace = shell.user_ns
        wanted = [n for n in names if (n not in namespace and not hasattr(builtins, n))
                  or (n in bound and namespace.get(n) is bound[n])]
        if not wanted:
            return
        described = ask({"op": "describe", "names": wanted})
        for name in wanted:
            if name not in described:
                if name in bound and namespace.get(name) is bound.pop(name):
                    del namespace[name]
                continue
            text = described[name]
            value = Remote(name, name) if text is None else wire.decode(text, _resolve)
            namespace[name] = bound[name] = value

    setattr(builtins, BIND_NAME, bind)


StudentError = ErrorInYourCode  # the name it had
