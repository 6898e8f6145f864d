"""Run a test cell in the test kernel, answering its requests from the student's kernel (`remote`)."""

from __future__ import annotations

import json
import secrets
import time

from jaxcourse.grading import guard, remote
from jaxcourse.grading.kernel import Kernel
from jaxcourse.grading.steps import Outcome

INLINE_CHARS = 100_000
WITHHELD = ("[grader: this hidden test handed code to your kernel, so its messages are not shown; "
            "it {verdict}]\n")


def _error(kind: str, message: str) -> str:
    return json.dumps({"error": [kind, message]})


class Relay:
    """Answers the test kernel's requests, each by one call of the student's kernel's server.

    `tainted` turns true when hidden test code was handed to the student's kernel; `broken` says
    why the student's kernel stopped answering (it died, or was stopped after a time-out)."""

    def __init__(self, student: Kernel, deadline: float, hidden: bool, public: str = ""):
        self.student = student
        self.deadline = deadline
        self.hidden = hidden
        self.public = public  # the visible test code: helpers defined there hide nothing
        self.tainted = False
        self.broken = ""

    def __call__(self, prompt: str) -> str:
        op, _, request = prompt.partition("\n")
        if op == remote.SNIPPET and self.hidden and not self.tainted:
            source = json.loads(request).get("source", "")
            self.tainted = not source.strip() or source.strip() not in self.public
        if self.broken:
            return _error("GraderError", self.broken)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return _error("TimeoutError", "the test's time ran out in your code")
        inline = len(request) < INLINE_CHARS  # small requests go with the call; large ones are asked for
        answers: list[str] = [""] if inline else []

        def on_input(student_prompt: str) -> str:
            if not answers:
                answers.append("")  # the server asked for its request
                return request
            answers.append(student_prompt)
            return ""

        call = f"{remote.SERVE_NAME}({request!r})" if inline else f"{remote.SERVE_NAME}()"
        outcome, _ = self.student.execute(call, timeout=remaining, store_history=False,
                                          on_input=on_input, keep_outputs=False)
        if outcome.status in ("died", "killed", "timeout"):
            self.broken = f"your code {outcome.error}" if outcome.status == "timeout" else outcome.error
            if not self.student.alive():
                self.broken = "your kernel stopped during this test"
            return _error("GraderError", self.broken)
        if len(answers) < 2:
            return _error("GraderError", "your kernel gave no answer")
        return answers[1]


def run_test_part(tests: Kernel, student: Kernel, code: str, timeout: float, hidden: bool,
                  public: str = "") -> tuple[Outcome, Relay]:
    """Run one part of a test cell in `tests`; its verdict is the test kernel's alone. `public`
    is the notebook's visible test code: an `in_student` helper defined there, called by a
    hidden part, does not count as hidden code handed over."""
    relay = Relay(student, time.monotonic() + timeout, hidden, public)
    names = remote.free_names(code)
    if names:
        bound, _ = tests.execute(f"{remote.BIND_NAME}({names!r})", timeout=timeout, store_history=False,
                                 on_input=relay, keep_outputs=False)
        if bound.status != "ok":
            bound.error = f"the grader could not look up the names this test uses: {bound.error}"
            return bound, relay
    nonce = secrets.token_hex(8)
    outcome, value = tests.execute(f"{code}\n{guard.RECEIPT_NAME} = {nonce!r}", timeout=timeout,
                                   store_history=not hidden, receipt_expr=guard.RECEIPT_NAME, on_input=relay)
    for output in outcome.outputs:  # the receipt line is the grader's, not the student's business
        if output.get("output_type") == "error":
            output["traceback"] = [line for line in output.get("traceback", []) if guard.RECEIPT_NAME not in line]
    if outcome.status == "ok" and value != nonce:
        outcome.status = "error"
        outcome.error = "the test did not run to its end (the kernel reported success without it)"
    if relay.tainted:  # what the student's code answered after seeing hidden code must not reach feedback
        verdict = "passed" if outcome.status == "ok" else "failed"
        outcome.outputs = [{"output_type": "stream", "name": "stdout", "text": WITHHELD.format(verdict=verdict)}]
        if outcome.status != "ok":
            outcome.error = f"hidden test failed ({outcome.status})"
    return outcome, relay
