"""Run a test cell in the test kernel, answering its requests from the student's kernel (`remote`)."""

from __future__ import annotations

import ast
import functools
import json
import queue
import re
import secrets
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from jaxcourse.grading.intake.steps import Outcome
from jaxcourse.grading.sandbox import guard
from jaxcourse.grading.sandbox.kernel import Kernel
from jaxcourse.grading.verdicts import behaviour, remote

WITHHELD = ("[grader: this hidden test handed code to your kernel, so its messages are not shown; "
            "it {verdict}]\n")


# The students' servers run here: a thread is started only when all are busy, not one a test part
# (each start is a chance for CPython 3.11's thread-start deadlock, see `workers`).
_servers = ThreadPoolExecutor(max_workers=256, thread_name_prefix="student-server")


MAX_ANSWERS_KEPT = 200  # of one test part, for `behaviour`


def _error(kind: str, message: str) -> str:
    return json.dumps({"error": [kind, message]})


class Relay:
    """Answers the test kernel's requests from the student's kernel, whose server runs for the
    whole test part (one cell, in a thread of the grader's), answering one request per prompt.

    `tainted` turns true when hidden test code was handed to the student's kernel; `broken` says
    why the student's kernel stopped answering (it died, or was stopped after a time-out)."""

    def __init__(self, student: Kernel, deadline: float, hidden: bool, public: str = ""):
        self.student = student
        self.deadline = deadline
        self.hidden = hidden
        self.public = public  # the visible test code: helpers defined there hide nothing
        self.tainted = False
        self.broken = ""
        self._requests: queue.Queue = queue.Queue()
        self._answers: queue.Queue = queue.Queue()
        self._server: Future | None = None
        self.answers: list[str] = []  # what the student's kernel answered, for `behaviour` (capped)

    def _serve(self) -> None:
        def on_input(prompt: str) -> str:
            if prompt != remote.READY:
                self._answers.put(prompt)
            return self._requests.get()  # "" ends the server

        try:
            outcome, _ = self.student.execute(f"{remote.SERVE_NAME}()", timeout=self.deadline - time.monotonic(),
                                              store_history=False, on_input=on_input, keep_outputs=False)
            if outcome.status in ("died", "killed", "timeout"):
                self.broken = f"your code {outcome.error}" if outcome.status == "timeout" else outcome.error
            if outcome.status == "killed":  # it ignored the interrupt: it cannot be trusted to be idle
                self.student.kill()
        except Exception as err:  # the grader's own trouble: this part's requests fail, nothing else
            self.broken = f"the grader lost your kernel: {err}"
        finally:
            if not self.student.alive():
                self.broken = "your kernel stopped during this test"
            self._answers.put(None)

    def __call__(self, prompt: str) -> str:
        op, _, request = prompt.partition("\n")
        if op == remote.SNIPPET and self.hidden and not self.tainted:
            source = json.loads(request).get("source", "")
            self.tainted = not source.strip() or source.strip() not in self.public
        if self.broken:
            return _error("GraderError", self.broken)
        if self._server is None:
            self._server = _servers.submit(self._serve)
        self._requests.put(request)
        try:
            # the server's cell ends by itself within its time limit and grace (`Kernel.execute`)
            answer = self._answers.get(timeout=max(0.0, self.deadline - time.monotonic())
                                       + self.student.sandbox.limits.interrupt_grace + 30.0)
        except queue.Empty:
            answer = None
        if answer is None:
            self.broken = self.broken or "your code did not answer in time"
            return _error("GraderError", self.broken)
        if len(self.answers) < MAX_ANSWERS_KEPT:
            self.answers.append(answer)
        return answer

    def close(self) -> None:
        """End the student's server and wait for it: the student's kernel is free again."""
        if self._server is not None:
            self._requests.put("")
            self._server.result()


_PARSING = threading.Lock()  # CPython 3.11's ast.parse is not thread-safe: two workers at once can
# fail with "AST constructor recursion depth mismatch", and cost a student a notebook


class _Order(ast.NodeVisitor):
    """The names a cell reads before it binds them, in the order Python runs its statements: a
    name the test binds itself (its helper, its input) is its own, never asked of the student's
    kernel, so no request names it. A function body runs when called, after the cell has bound
    its names: what it reads and neither it nor the cell binds is read."""

    def __init__(self):
        self.read_first: set[str] = set()
        self.bound: set[str] = set()
        self.later: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if node.id not in self.bound:
                self.read_first.add(node.id)
        else:
            self.bound.add(node.id)

    def _runs_later(self, node, parameters=()) -> None:
        names = [n for n in ast.walk(node) if isinstance(n, ast.Name)]
        own = set(parameters) | {n.id for n in names if not isinstance(n.ctx, ast.Load)}
        own |= {a.arg for n in ast.walk(node) if isinstance(n, ast.arguments)
                for a in [*n.posonlyargs, *n.args, *n.kwonlyargs, n.vararg, n.kwarg] if a is not None}
        self.later |= {n.id for n in names if isinstance(n.ctx, ast.Load)} - own

    @staticmethod
    def _parameters(args: ast.arguments) -> list[str]:
        return [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
                if a is not None]

    def visit_FunctionDef(self, node) -> None:
        for item in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if item is not None:
                self.visit(item)
        self.bound.add(node.name)
        self._runs_later(ast.Module(body=node.body, type_ignores=[]), self._parameters(node.args))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node) -> None:
        for item in [*node.decorator_list, *node.bases]:
            self.visit(item)
        self.bound.add(node.name)
        self._runs_later(ast.Module(body=node.body, type_ignores=[]))

    def visit_Lambda(self, node) -> None:
        self._runs_later(node.body, self._parameters(node.args))

    def _comprehension(self, node) -> None:  # runs now; its loop names are its own
        own = {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in own | self.bound:
                self.read_first.add(n.id)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_Assign(self, node) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AnnAssign(self, node) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_AugAssign(self, node) -> None:
        if isinstance(node.target, ast.Name) and node.target.id not in self.bound:
            self.read_first.add(node.target.id)
        self.visit(node.value)
        self.visit(node.target)

    def visit_Import(self, node) -> None:
        for alias in node.names:
            self.bound.add((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bound.add(node.name)
        for statement in node.body:
            self.visit(statement)

    def names(self) -> set[str]:
        return self.read_first | (self.later - self.bound)


@functools.lru_cache(maxsize=512)
def read_test(code: str) -> tuple[tuple[str, ...], bool]:
    """Every name `code` reads before binding it (what a test may need from the student's kernel),
    and whether its first line is a whole simple statement (an import, say), so that the grader's
    name lookup can go before it on the same line."""
    with _PARSING:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            return (), False
    order = _Order()
    order.visit(tree)
    names = tuple(sorted(order.names()))
    if not tree.body:
        return names, False
    first = tree.body[0]
    simple = (ast.Import, ast.ImportFrom, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)
    return names, (isinstance(first, simple) and first.lineno == 1 and first.end_lineno == 1
                   and first.col_offset == 0)


COLOUR = re.compile(r"\x1b\[[0-9;]*m")
GRADER_FRAME = re.compile(r"jaxcourse[/\\]grading[/\\]")  # a frame of the grader's own code, not the student's


def _students_part(entry: str, bind: str) -> str:
    """One traceback entry without the lines the grader added to the test cell."""
    lines = []
    for line in entry.split("\n"):
        plain = COLOUR.sub("", line)  # IPython colours the code, inside the grader's text too
        if guard.RECEIPT_NAME in plain:
            continue
        lines.append(plain.replace(bind, "") if bind and bind in plain else line)
    return "\n".join(lines)


def _summary(tests: Kernel, outcome: Outcome, timeout: float) -> str:
    """The failed part's one line, from the test kernel (which knows what failed where)."""
    if outcome.status == "timeout":
        return f"took longer than {timeout:g} s (interrupted)"
    if outcome.status == "killed":
        return f"took longer than {timeout:g} s and ignored the interrupt"
    if outcome.status == "died":
        return "the test stopped: its kernel died"
    if outcome.status != "error" or not tests.alive():
        return ""
    said, _ = tests.execute(f"{remote.FAILURE_NAME}()", timeout=30, store_history=False)
    text = "".join(o.get("text", "") for o in said.outputs if o.get("output_type") == "stream")
    try:
        failure = json.loads(text)
    except ValueError:
        return "the test failed"
    outcome.check = failure.get("check")
    return " ".join(str(failure.get("summary", "")).split())[:300] or "the test failed"


def run_test_part(tests: Kernel, student: Kernel, code: str, timeout: float, hidden: bool,
                  public: str = "") -> tuple[Outcome, Relay]:
    """Run one part of a test cell in `tests`; its verdict is the test kernel's alone. `public`
    is the notebook's visible test code: an `in_student` helper defined there, called by a
    hidden part, does not count as hidden code handed over."""
    relay = Relay(student, time.monotonic() + timeout, hidden, public)
    try:
        names, starts_simply = read_test(code)
        bind = f"{remote.BIND_NAME}({list(names)!r}); " if names else ""
        # A separate cell where the first line is not a whole statement: the test's line numbers
        # must hold. (A traceback never shows the lookup: every entry is cleaned of it below.)
        if bind and not starts_simply:
            bound, _ = tests.execute(bind, timeout=timeout, store_history=False, on_input=relay, keep_outputs=False)
            if bound.status != "ok":
                bound.error = f"the grader could not look up the names this test uses: {bound.error}"
                return bound, relay
            bind = ""
        nonce = secrets.token_hex(8)
        outcome, value = tests.execute(f"{bind}{code}\n{guard.RECEIPT_NAME} = {nonce!r}", timeout=timeout,
                                       store_history=False, receipt_expr=guard.RECEIPT_NAME, on_input=relay)
    finally:
        relay.close()
    for output in outcome.outputs:  # the grader's lines are not the student's business
        if output.get("output_type") == "error":
            output["traceback"] = [_students_part(entry, bind) for entry in output.get("traceback", [])
                                   if not GRADER_FRAME.search(entry)]
    if outcome.status == "ok" and value != nonce:
        outcome.status = "error"
        outcome.error = "the test did not run to its end (the kernel reported success without it)"
    outcome.summary = _summary(tests, outcome, timeout)
    if hidden:
        outcome.check = None  # what the student's code gave a hidden check stays with the grader
    outcome.answers = behaviour.items(relay.answers)
    if relay.tainted:  # what the student's code answered after seeing hidden code must not reach feedback
        verdict = "passed" if outcome.status == "ok" else "failed"
        outcome.outputs = [{"output_type": "stream", "name": "stdout", "text": WITHHELD.format(verdict=verdict)}]
        if outcome.status != "ok":
            outcome.error = f"hidden test failed ({outcome.status})"
    return outcome, relay
