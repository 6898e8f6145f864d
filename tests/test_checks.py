import jax.numpy as jnp
import numpy as np
import pytest

from jaxcourse import checks


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = None


def test_expect_close_passes_close_values_and_names_the_worst():
    checks.expect_close(jnp.array([1.0, 2.0]), [1.0, 2.0 + 1e-7])
    with pytest.raises(AssertionError, match=r"^1 of 2 values differ; at index \[1\] expected 2, got 3: loss$"):
        checks.expect_close(np.array([1.0, 3.0]), [1.0, 2.0], "loss")
    with pytest.raises(AssertionError, match=r"^expected 0.5, got 0: jax.grad\(softplus\)\(0.0\)$"):
        checks.expect_close(0.0, 0.5, "jax.grad(softplus)(0.0)")


def test_a_failure_says_what_went_wrong_first_and_what_was_checked_for_a_hidden_test():
    long_name = "Jacobian of a function from 3 inputs to 2 outputs (outputs x inputs, as jacrev gives it)"
    with pytest.raises(checks.CheckFailed) as failed:
        checks.expect_close(np.zeros((3, 2)), np.zeros((2, 3)), long_name)
    assert str(failed.value).startswith("expected shape (2, 3), got (3, 2)")
    assert (failed.value.kind, failed.value.what) == ("wrong shape", long_name)
    for check, args, kind in [(checks.expect_close, ([1.0, 5.0], [1.0, 2.0]), "values differ"),
                              (checks.expect_close, (None, 1.0), "returned None"),
                              (checks.expect_close, ("text", 1.0), "returned a str, not numbers"),
                              (checks.expect_close, ([np.nan], [1.0]), "contains NaN"),
                              (checks.expect_jax_array, (np.ones(2),), "not a jax.Array")]:
        with pytest.raises(checks.CheckFailed) as failed:
            check(*args, "the check")
        assert (failed.value.kind, failed.value.what) == (kind, "the check")
        assert "the check" not in str(failed.value)[:20]
    with pytest.raises(checks.CheckFailed) as failed:
        checks.expect_true(False, "x is left as it was")
    assert (failed.value.kind, failed.value.what, str(failed.value)) == ("failed",) + ("x is left as it was",) * 2


def test_expect_close_reports_shape_before_values():
    with pytest.raises(AssertionError, match=r"expected shape \(4,\), got \(4, 1\)"):
        checks.expect_close(np.zeros((4, 1)), np.zeros(4), "forward")


def test_expect_close_names_a_missing_return_and_nan():
    with pytest.raises(AssertionError, match="forget to `return`"):
        checks.expect_close(None, 1.0)
    with pytest.raises(AssertionError, match="NaN"):
        checks.expect_close([np.nan], [1.0])


def test_objects_that_fake_equality_do_not_pass():
    with pytest.raises(AssertionError, match="not numbers"):
        checks.expect_close(AlwaysEqual(), [1.0, 2.0])
    with pytest.raises(AssertionError):
        checks.expect_equal(AlwaysEqual(), 3)


def test_expect_true_accepts_only_real_booleans():
    checks.expect_true(True, "x")
    checks.expect_true(np.bool_(True), "x")
    for fake in (1, "yes", [1], AlwaysEqual(), np.bool_(False)):
        with pytest.raises(AssertionError, match="msg"):
            checks.expect_true(fake, "msg")


def test_expect_equal_is_exact_and_expect_shape_compares_tuples():
    checks.expect_equal(jnp.array([1, 2]), [1, 2])
    with pytest.raises(AssertionError):
        checks.expect_equal(np.array([1.0, 2.0000001]), [1, 2])
    checks.expect_shape(np.zeros((2, 3)), (2, 3))
    with pytest.raises(AssertionError, match=r"expected shape \(3, 2\)"):
        checks.expect_shape(np.zeros((2, 3)), (3, 2), "w1")


def test_expect_jax_array_rejects_numpy():
    checks.expect_jax_array(jnp.ones(2))
    with pytest.raises(AssertionError, match="jax.Array"):
        checks.expect_jax_array(np.ones(2))


def _table(*entries):
    return tuple({"assignment": "04_autodiff", "task": "t", "see": "04_autodiff §6", **e} for e in entries)


def test_a_failure_keeps_the_numbers_its_cell_checks_saw():
    checks._new_cell()
    checks.expect_close(np.array([1.0, 2.0]), [1.0, 2.0], "first")
    with pytest.raises(checks.CheckFailed) as failed:
        checks.expect_close(np.array([3.0, 5.0]), [3.0, 4.0], "second")
    assert failed.value.seen == (6, [1.0, 2.0, 2.0, 3.0, 5.0, 2.0])  # values, then shape, of each check
    checks._new_cell()
    with pytest.raises(checks.CheckFailed) as failed:
        checks.expect_true(False, "x is left as it was")
    assert failed.value.seen == (1, [0.0])


def test_a_failure_that_behaves_like_one_kept_mistake_names_it_in_the_same_words_as_the_grader(monkeypatch):
    from jaxcourse.grading.verdicts import behaviour

    mistake = {"file": "tangent_ignored", "why": "the rule ignores the input tangent", "what": "tangent_out",
               "kind": "values differ", "count": 3, "numbers": [1.0, 0.25, 2.0]}  # values, then shape
    monkeypatch.setattr(checks, "_known", lambda: _table(mistake))
    checks._new_cell()
    with pytest.raises(checks.CheckFailed) as failed:
        checks.expect_close([1.0, 0.25 + 1e-7], [1.0, 0.5], "tangent_out")
    first, *sentence = str(failed.value).split("\n")
    assert max(len(line) for line in sentence) <= 80  # `nbgrader validate` cuts lines at 87 characters
    second = " ".join(sentence)
    assert first == "1 of 2 values differ; at index [1] expected 0.5, got 0.25: tangent_out"
    assert second == behaviour.sentence(_table(mistake)[0]) == (
        "Your answer behaves like a known mistake: the rule ignores the input tangent. The idea is taught in "
        "chapter 04_autodiff §6.")
    for numbers, what in [([1.0, 0.3], "tangent_out"), ([1.0, 0.25], "another check")]:
        checks._new_cell()
        with pytest.raises(checks.CheckFailed) as failed:
            checks.expect_close(numbers, [1.0, 0.5], what)
        assert "known mistake" not in str(failed.value)


def test_a_failure_names_no_mistake_from_one_shared_number_or_when_two_match(monkeypatch):
    one = {"file": "a", "why": "a", "what": "loss", "kind": "values differ", "count": 1, "numbers": [0.0]}
    monkeypatch.setattr(checks, "_known", lambda: _table(one))
    checks._new_cell()
    with pytest.raises(checks.CheckFailed) as failed:
        checks.expect_close(0.0, 0.5, "loss")
    assert "known mistake" not in str(failed.value)
    two = {"what": "v", "kind": "values differ", "count": 3, "numbers": [1.0, 3.0, 2.0]}
    for table, named in [((two | {"file": "a", "why": "a"},), True),
                         ((two | {"file": "a", "why": "a"}, two | {"file": "b", "why": "b"}), False)]:
        monkeypatch.setattr(checks, "_known", lambda table=table: _table(*table))
        checks._new_cell()
        with pytest.raises(checks.CheckFailed) as failed:
            checks.expect_close([1.0, 3.0], [1.0, 2.0], "v")
        assert ("known mistake" in str(failed.value)) is named


def test_the_grader_s_test_kernel_names_nothing_itself(monkeypatch):
    mistake = {"file": "a", "why": "a", "what": "v", "kind": "values differ", "count": 3, "numbers": [1.0, 3.0, 2.0]}
    monkeypatch.setattr(checks, "_known", lambda: _table(mistake))
    for naming in (True, False):
        monkeypatch.setattr(checks, "naming", naming)
        checks._new_cell()
        with pytest.raises(checks.CheckFailed) as failed:
            checks.expect_close([1.0, 3.0], [1.0, 2.0], "v")
        assert ("known mistake" in str(failed.value)) is naming


def test_the_published_table_holds_only_visible_outcomes_of_kept_mistakes():
    import json

    table = json.loads(checks.KNOWN_MISTAKES.read_text())
    assert table, "no kept mistake can be named in a notebook: run `make release`"
    assert {tuple(sorted(e)) for e in table} == {
        ("assignment", "count", "file", "kind", "numbers", "see", "task", "what", "why")}
    assert all(checks.informative(e["numbers"]) for e in table)


def _residuals(t):
    return jnp.concatenate([10.0 * (t[1:] - t[:-1] ** 2), 1.0 - t])


def test_a_handed_over_computation_is_run_and_measured_where_it_is_checked():
    import jax

    spec = jax.ShapeDtypeStruct((40,), jnp.float32)

    def jacobian_free(t, u):
        _, j_u = jax.jvp(_residuals, (t,), (u,))
        return jax.vjp(_residuals, t)[1](j_u)[0]

    def with_jacobian(t, u):
        jacobian = jax.jacfwd(_residuals)(t)
        return jacobian.T @ (jacobian @ u)

    free = checks.expect_computation(checks.hand_over(jacobian_free, spec, spec))
    full = checks.expect_computation(checks.hand_over(with_jacobian, spec, spec))
    t, u = jnp.linspace(-1.0, 1.0, 40), jnp.ones(40)
    np.testing.assert_allclose(free(t, u), full(t, u), rtol=1e-5)
    assert free.largest_array() == 79 and full.largest_array() == 79 * 40  # the residuals; the Jacobian
    assert {"multiply", "add"} <= free.operations() and "dot_general" in full.operations()


def test_a_computation_the_test_kernel_must_not_run_is_refused():
    import jax
    from jax import export

    spec = jax.ShapeDtypeStruct((3, 3), jnp.float32)
    big = jnp.asarray(np.random.default_rng(0).normal(size=(600, 600)), jnp.float32)  # a 1.4 MB constant
    cases = [(b"not a computation", "handed over bytes that are not a computation"),
             ([1.0, 2.0], "handed over something that is not a computation"),
             (checks.hand_over(lambda x: x.sum() + (big * x[0, 0]).sum(), spec), "handed over a computation too large to run"),
             (checks.hand_over(jnp.linalg.inv, spec), "handed over a computation that calls outside JAX"),
             (bytes(export.export(jax.jit(jnp.sin), platforms=["tpu"])(spec).serialize()),
              "handed over a computation for another platform")]
    for blob, kind in cases:
        with pytest.raises(checks.CheckFailed) as failed:
            checks.expect_computation(blob, "the product handed over")
        assert (failed.value.kind, failed.value.what) == (kind, "the product handed over"), str(failed.value)


def test_a_computation_for_other_platforms_is_read_when_asked_and_a_relabelled_one_is_refused():
    import dataclasses

    import jax
    from jax import export

    spec = jax.ShapeDtypeStruct((3,), jnp.float32)
    elsewhere = export.export(jax.jit(jnp.sin), platforms=["tpu"])(spec)
    read = checks.expect_computation(bytes(elsewhere.serialize()), "an export for a TPU", runs_here=False)
    assert read.exported.platforms == ("tpu",)
    relabelled = dataclasses.replace(export.export(jax.jit(jnp.sin))(spec), platforms=("tpu", "cuda", "cpu"))
    with pytest.raises(checks.CheckFailed, match="lowered for one") as failed:
        checks.expect_computation(bytes(relabelled.serialize()), "a relabelled export")
    assert failed.value.kind == "handed over a computation whose platforms were changed after it was exported"
