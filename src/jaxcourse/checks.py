"""Checks for exercise test cells: each failure says what was expected and what came back."""

from __future__ import annotations

import numpy as np


class CheckFailed(AssertionError):
    """A check's failure: `kind` (what went wrong, e.g. "values differ") and `what` (the check's
    description) can be shown for a hidden test, whose message (with its values) is not. The
    message puts the fact first: a tool that cuts long lines still shows it."""

    def __init__(self, message: str, what: str, kind: str):
        super().__init__(message)
        self.what = what
        self.kind = kind


def _as_numbers(value, name: str) -> np.ndarray:
    """A plain float64 NumPy copy, so objects that fake comparisons cannot pass."""
    if value is None:
        raise CheckFailed(f"got None (did the function forget to `return`?): {name}", name, "returned None")
    try:
        array = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as err:
        raise CheckFailed(f"got {type(value).__name__}, not numbers (an array or a scalar): {name}", name,
                          f"returned a {type(value).__name__}, not numbers") from err
    return array


def expect_shape(value, shape: tuple[int, ...], name: str = "result") -> None:
    actual = tuple(np.shape(value))
    if actual != tuple(shape):
        raise CheckFailed(f"expected shape {tuple(shape)}, got {actual}: {name}", name, "wrong shape")


def expect_close(actual, expected, name: str = "result", *, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Shape first, then values, with the worst element named in the message."""
    got = _as_numbers(actual, name)
    want = np.array(expected, dtype=np.float64)
    expect_shape(got, want.shape, name)
    if np.isnan(got).any() and not np.isnan(want).any():
        raise CheckFailed(f"NaN at index {np.argwhere(np.isnan(got))[0].tolist()}: {name}", name, "contains NaN")
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0]) if got.ndim else ()
        fact = f"expected {want[where]:.6g}, got {got[where]:.6g}"
        if got.size > 1:
            fact = f"{int(bad.sum())} of {bad.size} values differ; at index {list(where)} {fact}"
        raise CheckFailed(f"{fact}: {name}", name, "values differ")


def expect_equal(actual, expected, name: str = "result") -> None:
    """Exact equality of numbers (integer results such as counts, labels, distances)."""
    expect_close(actual, expected, name, rtol=0.0, atol=0.0)


def expect_true(condition: bool, message: str) -> None:
    """Passes only for a real True (Python or NumPy bool), never for a truthy stand-in. `message`
    says what was checked (in a hidden test, it is what the student sees)."""
    if not (condition is True or (isinstance(condition, np.bool_) and bool(condition))):
        raise CheckFailed(message, message, "failed")


def expect_jax_array(value, name: str = "result") -> None:
    """The value is a jax.Array (not a NumPy array or a Python number)."""
    import jax

    if not isinstance(value, jax.Array):
        raise CheckFailed(f"expected a jax.Array, got {type(value).__name__}: {name}", name, "not a jax.Array")


def in_student(function):
    """Mark a test's helper that must run where the student's code runs: one that takes
    `jax.grad` or `jax.jit` of a student's function, hands it a function, or keeps a student's
    object (a model, an optimizer) between calls. In a notebook this is the function itself. When
    a submission is graded, tests run in a kernel of their own, and this helper's source is run in
    the student's kernel instead, with plain data (numbers, arrays, tuples, lists, dicts) in and out.
    """
    return function
