"""The package's layout is its architecture: read from the source, not from a hand-kept list.

Layers, bottom up: the student helpers at the top level of `jaxcourse` (what notebooks import),
`course` (the course as data), `grading` (submissions to grades), `quality` (validate, audit),
and `cli`. A module imports only its own layer and the layers below; no import cycle anywhere.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "jaxcourse"
LAYERS = {"student": 0, "course": 1, "grading": 2, "quality": 3, "cli": 4}
HEAVY = ("nbgrader", "distributed", "dask", "sqlalchemy")
MAX_LINES = 410  # "about 400": past it a module is doing two jobs


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and module in SUBPACKAGES):
        return parts[1]
    return "student"


SUBPACKAGES = {m for m, p in MODULES.items() if p.name == "__init__.py" and m != "jaxcourse"}


def _resolve(name: str) -> str:
    while name not in MODULES:  # `jaxcourse.x.function` names a member of module `jaxcourse.x`
        name = name.rsplit(".", 1)[0]
    return name


def imports(module: str) -> tuple[set[str], set[str]]:
    """(jaxcourse modules, other top-level packages) that `module` imports anywhere in its source."""
    names = []
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module}: a relative import; write it absolute so this graph sees it"
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    ours = {_resolve(n) for n in names if n.split(".")[0] == "jaxcourse"} - {module, "jaxcourse"}
    others = {n.split(".")[0] for n in names if n.split(".")[0] != "jaxcourse"}
    return ours, others


GRAPH = {m: imports(m)[0] for m in MODULES}


def test_the_four_parts_are_folders():
    assert {m for m in SUBPACKAGES if m.count(".") == 1} == {"jaxcourse.course", "jaxcourse.grading",
                                                              "jaxcourse.quality", "jaxcourse.cli"}
    assert {layer(m) for m in MODULES} == set(LAYERS)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_only_down(module):
    upward = sorted(m for m in GRAPH[module] if LAYERS[layer(m)] > LAYERS[layer(module)])
    assert not upward, f"{module} ({layer(module)}) imports from a higher layer: {upward}"


def test_no_import_cycle():
    done, path = set(), []

    def visit(module):
        if module in path:
            cycle = path[path.index(module):] + [module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        path.append(module)
        for target in sorted(GRAPH[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)


def _reachable(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += GRAPH[current]
    return seen


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) == "student"))
def test_what_notebooks_import_stays_light(module):
    heavy = {(m, p) for m in _reachable(module) for p in imports(m)[1] if p in HEAVY}
    assert not heavy, f"{module} reaches the instructor's machinery: {sorted(heavy)}"


def test_module_names_do_not_differ_by_a_suffix():
    stems = sorted({m.rsplit(".", 1)[-1] for m in MODULES if not m.endswith("__init__")} - {"jaxcourse"})
    clashes = [(a, b) for a in stems for b in stems if a != b and b.startswith(a)]
    assert not clashes, f"names that differ only by a suffix: {clashes}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: split it by what it does"


def test_the_checker_sees_a_planted_upward_import(tmp_path, monkeypatch):
    """The layer rule is not vacuous: a student module importing grading is caught."""
    planted = tmp_path / "planted.py"
    planted.write_text("from jaxcourse.grading import pipeline\n")
    monkeypatch.setitem(MODULES, "jaxcourse.planted", planted)
    found, _ = imports("jaxcourse.planted")
    assert found == {"jaxcourse.grading.pipeline"}
    assert LAYERS[layer("jaxcourse.grading.pipeline")] > LAYERS[layer("jaxcourse.planted")]


GRADING_STAGES = {"intake": 0, "sandbox": 1, "verdicts": 2, "out": 3}  # a submission's way; the run above all


def grading_stage(module: str) -> int:
    """Where a grading module sits on a submission's way: its folder's place, or above every folder
    (pipeline, workers, bench: they drive the stages)."""
    parts = module.split(".")
    return GRADING_STAGES[parts[2]] if len(parts) > 3 else len(GRADING_STAGES)


GRADING = sorted(m for m in MODULES if layer(m) == "grading" and m != "jaxcourse.grading")


def test_grading_s_folders_are_the_stages_a_submission_passes():
    folders = {m.split(".")[2] for m in GRADING if len(m.split(".")) > 3}
    assert folders == set(GRADING_STAGES)
    top = [m for m in GRADING if len(m.split(".")) == 3 and m.split(".")[2] not in GRADING_STAGES]
    assert len(top) <= 5, f"modules beside the stage folders, not in one: {top}"


@pytest.mark.parametrize("module", GRADING)
def test_a_grading_stage_imports_only_the_stages_before_it(module):
    later = sorted(m for m in GRADING_GRAPH[module] if grading_stage(m) > grading_stage(module))
    assert not later, f"{module} imports from a later stage: {later}"


GRADING_GRAPH = {m: {t for t in GRAPH[m] if t in GRADING} for m in GRADING}


def test_grading_tests_mirror_the_stages():
    tests = Path(__file__).resolve().parent / "grading"
    for stage in GRADING_STAGES:
        for test in (tests / stage).glob("test_*.py"):
            module = f"jaxcourse.grading.{stage}.{test.stem.removeprefix('test_')}"
            assert module in MODULES, f"{test.relative_to(tests)} tests no module of grading/{stage}"


def test_the_stage_checker_sees_a_planted_backward_import(tmp_path, monkeypatch):
    planted = tmp_path / "planted.py"
    planted.write_text("from jaxcourse.grading.out import gradebook\n")
    monkeypatch.setitem(MODULES, "jaxcourse.grading.intake.planted", planted)
    found, _ = imports("jaxcourse.grading.intake.planted")
    assert found == {"jaxcourse.grading.out.gradebook"}
    assert grading_stage("jaxcourse.grading.out.gradebook") > grading_stage("jaxcourse.grading.intake.planted")
