"""Similar submissions, for an instructor to read: evidence for a human, never a penalty.

`similar_pairs(answers)` takes every student's answer to every solution cell and returns the
pairs of students whose answers to one cell have nearly the same structure. Students do write
the same ten lines independently, the more so the shorter the task: a pair here is a reason to
read both answers side by side, not a verdict.

`fingerprint` parses an answer and normalises its syntax tree, so that what a copy changes
cheaply does not count and what it has to keep does:

- every identifier that is not a builtin becomes `v`, so renaming variables, arguments,
  functions or imported aliases changes nothing (`range`, `zip`, `len` stay: they say what
  the code does). One placeholder for all, not v0, v1, ... by first appearance: numbered
  placeholders shift as soon as two statements swap places, and a reordered copy of the
  training-loop exercise then scored 0.33 instead of 0.86 (see `similarity`);
- attribute names stay (`.tanh`, `.at`, `.set`, `.lax.scan`), and so do keyword names
  (`length=`, `in_axes=`): they name the library calls, which a copy keeps and an independent
  answer often chooses differently;
- numbers become `<number>` (0.1, 0.05 and 1 alike) and strings `<str>`; True, False and None
  stay, they change what the code does;
- docstrings and other bare strings are dropped; comments, blank lines and spacing never reach
  the syntax tree. IPython magics and shell lines (`%time`, `!pip`) are blanked before parsing.

The fingerprint is the pre-order walk of that tree, one token per node (`Assign`, `Name:v`,
`Attribute:set`, `Constant:<number>`, `Add`).
"""

from __future__ import annotations

import ast
import builtins
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

PLACEHOLDER = "v"
BUILTINS = frozenset(dir(builtins))
KEPT_CONSTANTS = (True, False, None, ...)
SHINGLE = 3  # tokens per k-gram compared by `similarity`
# the one field of a node that its token carries; other names (`as` aliases, `except ... as e`,
# `global`) never reach the fingerprint. `import jax.numpy` keeps its module path.
LABEL_FIELD = {
    ast.Name: "id",
    ast.Attribute: "attr",
    ast.Constant: "value",
    ast.arg: "arg",
    ast.keyword: "arg",
    ast.FunctionDef: "name",
    ast.AsyncFunctionDef: "name",
    ast.ClassDef: "name",
    ast.alias: "name",
    ast.ImportFrom: "module",
}


# --- fingerprints ---------------------------------------------------------------------------------


def without_magics(code: str) -> str:
    """`code` with IPython magics and shell escapes blanked, line numbers kept."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())


def _is_bare_string(node: ast.Expr) -> bool:
    return isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _placeholder(name: str) -> str:
    return name if name in BUILTINS else PLACEHOLDER


class Normaliser(ast.NodeTransformer):
    """Identifiers to `v`, literals to their kind, bare strings (docstrings) dropped."""

    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        return None if _is_bare_string(node) else self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = _placeholder(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = _placeholder(node.arg)
        return self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = _placeholder(node.name)
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_ClassDef = visit_FunctionDef

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        if not any(node.value is kept for kept in KEPT_CONSTANTS):
            node.value = _literal_kind(node.value)
        return node


def _literal_kind(value: object) -> str:
    return "<number>" if isinstance(value, int | float | complex) else f"<{type(value).__name__}>"


def _token(node: ast.AST) -> str:
    field = LABEL_FIELD.get(type(node))
    return type(node).__name__ if field is None else f"{type(node).__name__}:{getattr(node, field)}"


def _preorder(tree: ast.AST) -> Iterator[ast.AST]:
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        children = [child for child in ast.iter_child_nodes(node) if not isinstance(child, ast.expr_context)]
        stack.extend(reversed(children))


def fingerprint(code: str) -> tuple[str, ...] | None:
    """The normalised syntax tree of `code` as tokens, or None when it does not parse."""
    try:
        tree = ast.parse(without_magics(code))
    except (SyntaxError, ValueError):
        return None
    module = Normaliser().visit(tree)
    return tuple(_token(node) for node in _preorder(module) if node is not module)


# --- comparing ------------------------------------------------------------------------------------


def shingles(tokens: tuple[str, ...], k: int = SHINGLE) -> frozenset[tuple[str, ...]]:
    """The distinct runs of `k` consecutive tokens; shorter fingerprints are their own run."""
    return frozenset(tokens[i:i + k] for i in range(max(1, len(tokens) - k + 1)))


def jaccard(a: frozenset, b: frozenset) -> float:
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Jaccard index of the two fingerprints' sets of 3-token runs: 1.0 for the same structure.

    Chosen on the crafted answers of `tests/test_similarity.py` (four exercises). Renamed copies
    score 1.0 under every measure tried; what decides is how far copies with cheap edits
    (independent statements swapped, an unused line added) stay above answers written
    independently (a loop with `.at[].set` against `lax.scan` or `lax.fori_loop`, `jnp.mean`
    against `sum() / len`, unpacking against indexing):

    - 3-grams, one placeholder: edited copies 0.82, 0.86, 1.0; independent answers at most 0.44;
    - 4-grams: 0.80, 0.79, 1.0 against 0.33 (5-grams: 0.75, 0.71 against 0.27): about as wide a
      gap, but copies fall faster with each edit, and a lower threshold is how one finds them;
    - difflib.SequenceMatcher ratio: 0.78, 0.89 against 0.74: answers built from the same few
      node types share long common subsequences by chance;
    - names numbered by first appearance (v0, v1, ...): a swap renumbers every later use and the
      reordered training loop falls to 0.33 (SequenceMatcher 0.76).

    A run is lost only where an edit touches it, so a moved statement costs at most the runs
    across its two ends; statement boundaries look alike, so often not even those. Answers made
    of the same statements in another order therefore score about 1.0, which is intended.
    """
    return jaccard(shingles(a), shingles(b))


@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    cell: str
    score: float


def _comparable(answers: dict[str, dict[str, str]], cell: str, min_tokens: int) -> dict[str, frozenset]:
    """Each student's 3-grams for `cell`, for answers that parse and have `min_tokens` tokens."""
    found = {}
    for student, by_cell in answers.items():
        tokens = fingerprint(by_cell[cell]) if cell in by_cell else None
        if tokens is not None and len(tokens) >= min_tokens:
            found[student] = shingles(tokens)
    return found


def _pairs_in_cell(cell: str, grams: dict[str, frozenset], threshold: float) -> Iterator[Pair]:
    # Jaccard(a, b) <= |a| / |b| when |a| <= |b|: past that size ratio no later pair can score
    students = sorted(grams, key=lambda s: (len(grams[s]), s))
    for i, one in enumerate(students):
        for other in students[i + 1:]:
            if len(grams[one]) / len(grams[other]) < threshold:
                break
            score = jaccard(grams[one], grams[other])
            if score >= threshold:
                first, second = sorted((one, other))
                yield Pair(first, second, cell, score)


def similar_pairs(
    answers: dict[str, dict[str, str]], threshold: float = 0.9, min_tokens: int = 40
) -> list[Pair]:
    """Pairs of students whose answers to one cell score `threshold` or more, most similar first.

    `answers` maps student -> {cell grade_id -> solution code}. Answers shorter than
    `min_tokens` tokens are left out (everyone writes `return x + 1` alike), and so are answers
    that do not parse. Ties are sorted by the students' names, then the cell.
    """
    cells = sorted(set(itertools.chain.from_iterable(answers.values())))
    pairs = []
    for cell in cells:
        pairs.extend(_pairs_in_cell(cell, _comparable(answers, cell, min_tokens), threshold))
    return sorted(pairs, key=lambda p: (-p.score, p.first, p.second, p.cell))
