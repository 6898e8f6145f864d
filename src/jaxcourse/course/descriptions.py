"""What each check in a test cell says it checks: for a failed hidden test, the one thing a student
sees of it (`jaxcourse.grading.verdicts.remote.failure_summary`); `check-release` refuses a hidden check
that does not say it."""

from __future__ import annotations

import ast

CHECKS = ("expect_close", "expect_equal", "expect_shape", "expect_true", "expect_jax_array", "expect_computation")
# where each check's description is, by position: expect_true(condition, message), the others (value, ..., name)
DESCRIPTION_AT = {"expect_true": 1, "expect_jax_array": 1, "expect_shape": 2, "expect_close": 2, "expect_equal": 2,
                  "expect_computation": 1}


def description_template(call: ast.Call) -> str:
    """A check's description as written, with every value filled in at run time shown as "…" (it
    may be a hidden input); "" when it is not written out (a variable, an expression)."""
    name = call.func.id if isinstance(call.func, ast.Name) else ""
    at = DESCRIPTION_AT.get(name)
    node = next((k.value for k in call.keywords if k.arg in ("name", "message")), None)
    if node is None and at is not None and len(call.args) > at:
        node = call.args[at]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
    return ""


def check_calls(code: str) -> list[ast.Call]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                   and n.func.id in CHECKS), key=lambda n: (n.lineno, n.col_offset))


MIN_WORDS = 2  # "…" alone, or one word, tells a student nothing


def undescribed_hidden_checks(hidden_code: str) -> list[str]:
    """The hidden checks (as written) whose description a student could not act on: missing, a
    variable, or an f-string with fewer than MIN_WORDS words of its own."""
    bad = []
    for call in check_calls(hidden_code):
        words = [w for w in description_template(call).replace("…", " ").split() if any(ch.isalpha() for ch in w)]
        if len(words) < MIN_WORDS:
            bad.append(ast.unparse(call)[:120])
    return bad


def undescribed_in(root, names: list[str]) -> list[str]:
    """`undescribed_hidden_checks` of every hidden test cell of these assignments, one line each."""
    import nbformat

    from jaxcourse.course.assignments import SOURCE

    found = []
    for name in names:
        for path in sorted((root / SOURCE / name).glob("*.ipynb")):
            for cell in nbformat.read(path, as_version=4).cells:
                if "### BEGIN HIDDEN TESTS" not in cell.source:
                    continue
                hidden = cell.source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "?")
                found += [f"{name}/{path.name} {grade_id}: a hidden check a student cannot read when it "
                          f"fails (give it a description of a few words): {check}"
                          for check in undescribed_hidden_checks(hidden)]
    return found
