"""Small plausible mistakes made mechanically in a solution's code, one at a time.

`mutants(task, cell_source)` parses a solution cell and, for each spot inside its
`### BEGIN SOLUTION` ... `### END SOLUTION` block, makes the mistakes a student could make there:
an arithmetic or comparison operator swapped, a constant off by one or doubled, a sign dropped,
`mean`/`sum`, `max`/`min`, `argmax`/`argmin` or two activation functions swapped, an axis changed,
`keepdims`-style flags flipped, a functional update's result thrown away (`a.at[i].set(v)` without
`a = `), a random key reused instead of split. Each mutant is the whole cell, unparsed from the
changed tree, with a one-line description that names the line and the change.
"""

from __future__ import annotations

import ast
import copy
import difflib
from dataclasses import dataclass

SWAPS = {
    "mean": "sum", "sum": "mean", "max": "min", "min": "max", "argmax": "argmin", "argmin": "argmax",
    "maximum": "minimum", "minimum": "maximum", "tanh": "sigmoid", "sigmoid": "tanh", "relu": "tanh",
    "swish": "relu", "silu": "relu", "gelu": "relu", "softplus": "relu", "exp": "log", "log": "exp",
    "log1p": "log", "softmax": "log_softmax", "log_softmax": "softmax", "zeros": "ones", "ones": "zeros",
    "std": "var", "var": "std", "cumsum": "cumprod", "sin": "cos", "cos": "sin", "sqrt": "square",
    "square": "sqrt", "normal": "uniform", "uniform": "normal", "transpose": "conj",
}
BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
          ast.Pow: ast.Mult, ast.MatMult: ast.Mult, ast.Mod: ast.FloorDiv}
COMPARES = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
AXIS_KEYWORDS = {"axis", "in_axes", "out_axes", "axes", "dimension_numbers", "split_axis", "concat_axis"}
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class Mutant:
    task: str
    operator: str
    description: str
    code: str

    @property
    def key(self) -> str:
        return f"{self.task} | {self.description}"

    def diff(self, original: str) -> str:
        lines = difflib.unified_diff(original.splitlines(), self.code.splitlines(), "solution", "mutant",
                                     lineterm="", n=1)
        return "\n".join(list(lines)[2:])


def _solution_lines(source: str) -> set[int]:
    """1-based line numbers (after the markers are removed) inside the solution block."""
    inside, number, found = False, 0, set()
    for line in source.splitlines():
        if line.strip() == MARKERS[0]:
            inside = True
            continue
        if line.strip() == MARKERS[1]:
            inside = False
            continue
        number += 1
        if inside:
            found.add(number)
    return found


def strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.strip() not in MARKERS)


def normalized(source: str) -> str:
    """The solution cell as the mutants print it (unparsed), to diff them against."""
    return ast.unparse(ast.parse(strip_markers(source)))


def _short(node: ast.AST) -> str:
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _constant_variants(value) -> list:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return []
    variants = [value + 1]
    if value not in (0, 1):
        variants.append(value * 2)
    if value == 1:
        variants.append(0)
    return variants


def _axis_variants(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return [ast.Constant(1 if node.value in (0, -1) else 0)]
    if isinstance(node, ast.Constant) and node.value is None:
        return [ast.Constant(0)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return [ast.Constant(0)]
    if isinstance(node, ast.Tuple) and len(node.elts) == 2 and ast.dump(node.elts[0]) != ast.dump(node.elts[1]):
        return [ast.Tuple([node.elts[1], node.elts[0]], ast.Load())]
    return []


def _is_split(call: ast.AST) -> bool:
    if not isinstance(call, ast.Call) or not call.args:
        return False
    func = call.func
    return (isinstance(func, ast.Attribute) and func.attr == "split" and "random" in ast.unparse(func.value)) or \
        (isinstance(func, ast.Name) and func.id == "split")


def _replacements(node: ast.AST) -> list[tuple[str, ast.AST]]:
    """(operator name, replacement node) for every mutation of `node` itself."""
    found: list[tuple[str, ast.AST]] = []
    if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
        found.append(("arithmetic", ast.BinOp(node.left, BINOPS[type(node.op)](), node.right)))
    elif isinstance(node, ast.AugAssign) and type(node.op) in BINOPS:
        found.append(("arithmetic", ast.AugAssign(node.target, BINOPS[type(node.op)](), node.value)))
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARES:
        found.append(("comparison", ast.Compare(node.left, [COMPARES[type(node.ops[0])]()], node.comparators)))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        found.append(("sign", node.operand))
    elif isinstance(node, ast.Constant):
        found += [("constant", ast.Constant(v)) for v in _constant_variants(node.value)]
    elif isinstance(node, ast.Attribute) and node.attr in SWAPS:
        found.append(("function", ast.Attribute(node.value, SWAPS[node.attr], node.ctx)))
    elif isinstance(node, ast.Name) and node.id in SWAPS and isinstance(node.ctx, ast.Load):
        found.append(("function", ast.Name(SWAPS[node.id], node.ctx)))
    elif isinstance(node, ast.keyword) and node.arg in AXIS_KEYWORDS:
        found += [("axis", ast.keyword(node.arg, v)) for v in _axis_variants(node.value)]
    elif isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, bool):
        found.append(("flag", ast.keyword(node.arg, ast.Constant(not node.value.value))))
    elif isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
        if _is_split(value) and isinstance(target, ast.Tuple):
            reused = ast.Tuple([copy.deepcopy(value.args[0]) for _ in target.elts], ast.Load())
            found.append(("key-reuse", ast.Assign([target], reused)))
        elif _is_split(value):
            count = value.args[1] if len(value.args) > 1 else ast.Constant(2)
            copies = ast.BinOp(ast.List([copy.deepcopy(value.args[0])], ast.Load()), ast.Mult(), copy.deepcopy(count))
            stack = ast.Attribute(ast.Attribute(ast.Name("jax", ast.Load()), "numpy", ast.Load()), "stack", ast.Load())
            found.append(("key-reuse", ast.Assign([target], ast.Call(stack, [copies], []))))
        elif isinstance(target, ast.Name) and isinstance(value, ast.Call) and \
                any(isinstance(n, ast.Name) and n.id == target.id for n in ast.walk(value)) and \
                ".at[" in ast.unparse(value):
            found.append(("result-discarded", ast.Expr(value)))
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fold_in":
        found.append(("key-reuse", copy.deepcopy(node.args[0])))
    return found


class _Replace(ast.NodeTransformer):
    def __init__(self, target: int, replacement: ast.AST):
        self.target, self.replacement, self.index = target, replacement, -1

    def visit(self, node):
        self.index += 1
        if self.index == self.target:
            return ast.copy_location(self.replacement, node)
        return super().visit(node)


def mutants(task: str, source: str) -> list[Mutant]:
    """Every single-spot mutant of the solution block of a solution cell's source."""
    code = strip_markers(source)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    lines = _solution_lines(source)
    nodes = list(_walk(tree))
    found: list[Mutant] = []
    seen = {ast.unparse(tree)}
    for index, node in enumerate(nodes):
        if getattr(node, "lineno", None) not in lines:
            continue
        for operator, replacement in _replacements(node):
            changed = _Replace(index, replacement).visit(copy.deepcopy(tree))
            ast.fix_missing_locations(changed)
            text = ast.unparse(changed)
            if text in seen:
                continue
            seen.add(text)
            description = f"line {node.lineno}: `{_short(node)}` -> `{_short(replacement)}`"
            found.append(Mutant(task, operator, description, text))
    return found


def _walk(tree: ast.AST):
    """Nodes in the order `_Replace` visits them (pre-order, fields in order)."""
    yield tree
    for child in ast.iter_child_nodes(tree):
        yield from _walk(child)


def select(found: list[Mutant], cap: int | None) -> list[Mutant]:
    """At most `cap` mutants, spread over the kinds of mistake (round robin, in source order)."""
    if cap is None or len(found) <= cap:
        return found
    by_operator: dict[str, list[Mutant]] = {}
    for mutant in found:
        by_operator.setdefault(mutant.operator, []).append(mutant)
    chosen: list[Mutant] = []
    while len(chosen) < cap:
        for group in by_operator.values():
            if group and len(chosen) < cap:
                chosen.append(group.pop(0))
    return sorted(chosen, key=found.index)
