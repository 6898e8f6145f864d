"""Mutants are single, plausible, parseable changes inside the solution block only."""

import ast

from jaxcourse.quality import audit, mutation

CELL = '''def step(params, x, key):
    ### BEGIN SOLUTION
    k1, k2 = jax.random.split(key)
    a = jnp.zeros(3)
    a = a.at[0].set(x.mean(axis=0))
    if x.shape[0] > 2:
        a = a + 1.5
    return jnp.tanh(-a) * jax.random.normal(k1, (3,)), jnp.sum(a, keepdims=True)
    ### END SOLUTION'''


def _by_operator():
    found = {}
    for mutant in mutation.mutants("task-01-step", CELL):
        found.setdefault(mutant.operator, []).append(mutant)
    return found


def test_every_kind_of_mistake_is_made():
    kinds = set(_by_operator())
    assert {"arithmetic", "comparison", "sign", "constant", "function", "axis", "flag", "key-reuse",
            "result-discarded"} <= kinds


def test_each_mutant_parses_changes_one_spot_and_keeps_the_signature():
    original = ast.unparse(ast.parse(mutation.strip_markers(CELL)))
    for mutant in mutation.mutants("task-01-step", CELL):
        assert mutant.code != original
        assert mutant.code.startswith("def step(params, x, key):")
        ast.parse(mutant.code)
        changed = [line for line in mutant.diff(mutation.normalized(CELL)).splitlines()
                   if line.startswith("+") and not line.startswith("+++")]
        assert len(changed) == 1, mutant.description


def test_specific_mutants():
    descriptions = {m.description for m in mutation.mutants("t", CELL)}
    assert "line 4: `x.mean` -> `x.sum`" in descriptions
    assert "line 2: `k1, k2 = jax.random.split(key)` -> `k1, k2 = (key, key)`" in descriptions
    assert "line 4: `a = a.at[0].set(x.mean(axis=0))` -> `a.at[0].set(x.mean(axis=0))`" in descriptions
    assert "line 5: `x.shape[0] > 2` -> `x.shape[0] >= 2`" in descriptions


def test_nothing_outside_the_solution_block_is_mutated():
    cell = "def f(x, y=1):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
    assert mutation.mutants("t", cell) == []


def test_select_spreads_over_kinds():
    found = mutation.mutants("t", CELL)
    chosen = mutation.select(found, 6)
    assert len(chosen) == 6 and len({m.operator for m in chosen}) == 6
    assert mutation.select(found, None) == found


def test_tasks_that_see_each_other_never_share_a_submission():
    answers = {"a": "def f(x):\n    return x", "b": "def g(x):\n    return f(x) + 1", "c": "def h(x):\n    return x"}
    tests = {"a": "assert f(1) == 1", "b": "assert g(1) == 2", "c": "assert h(2) == 2"}
    depends = audit.dependencies(answers, tests)
    assert depends == {"a": set(), "b": {"a"}, "c": set()}
    grouped = audit.rounds({"a": [1, 2], "b": [3], "c": [4]}, depends)
    assert all(not ({"a", "b"} <= set(group)) for group in grouped)
    assert sorted(v for group in grouped for v in group.values()) == [1, 2, 3, 4]


def test_mutants_fill_only_the_tasks_a_submission_leaves_free_and_never_beside_a_task_they_see():
    depends = audit.dependencies({"a": "def f(): ...", "b": "def g(): return f()", "c": "def h(): ..."}, {})
    grouped = audit.rounds({"a": ["a1", "a2"], "c": ["c1"]}, depends)  # [{a, c}, {a}]
    placed = audit.fill(grouped, {"b": ["b-m1", "b-m2"], "c": ["c-m1", "c-m2", "c-m3"]}, depends)
    assert grouped == [{"a": "a1", "c": "c1"}, {"a": "a2", "c": "c-m1"}]
    assert placed == 1, "b sees a (in every submission); c is free in the second only"
    assert audit.fill([{"a": "a1"}], {"c": []}, depends) == 0
