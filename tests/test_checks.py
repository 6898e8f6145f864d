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
    with pytest.raises(AssertionError, match=r"loss: 1 of 2 values differ; at index \[1\] expected 2, got 3"):
        checks.expect_close(np.array([1.0, 3.0]), [1.0, 2.0], "loss")


def test_expect_close_reports_shape_before_values():
    with pytest.raises(AssertionError, match=r"expected shape \(4,\), got \(4, 1\)"):
        checks.expect_close(np.zeros((4, 1)), np.zeros(4), "forward")


def test_expect_close_names_a_missing_return_and_nan():
    with pytest.raises(AssertionError, match="forget to `return`"):
        checks.expect_close(None, 1.0)
    with pytest.raises(AssertionError, match="NaN"):
        checks.expect_close([np.nan], [1.0])


def test_objects_that_fake_equality_do_not_pass():
    with pytest.raises(AssertionError, match="should be numbers"):
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
