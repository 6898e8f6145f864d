"""jaxcourse.course.mnist_bench: the MNIST table has its rows and positive numbers (no timed assertions), and
the four variants it times compute the same training step."""

import re

import numpy as np
import pytest

from jaxcourse import cli
from jaxcourse.course import mnist_bench as bench

METHODS = ("NumPy, hand-written gradients", "JAX, no jit", "JAX, jit per batch", "JAX, jit of a lax.scan epoch")
NUMBER = r"[\d,]+(?:\.\d+)?"


@pytest.fixture(scope="module")
def quick_run():
    return bench.run_mnist(quick=True)


def test_mnist_is_registered_for_the_cli():
    assert cli.benchmarks()["mnist"] is bench.mnist
    assert cli.build_parser().parse_args(["bench", "mnist", "--quick"]).quick is True


def test_quick_table_has_every_method_with_positive_numbers(quick_run):
    table = quick_run.table()
    assert "784-512-10" in table
    peak = re.search(rf"matmul peak \(jitted (\d+)x\1 matmul\): ({NUMBER}) GFLOP/s", table)
    assert peak and float(peak.group(2)) > 0
    header = next(line for line in table.splitlines() if line.startswith("method"))
    for column in ("examples/s", "GFLOP/s", "of peak", "epoch (median)", "first call"):
        assert column in header
    for method in METHODS:
        line = next((row for row in table.splitlines() if row.startswith(method)), None)
        assert line is not None, f"no row for {method!r} in\n{table}"
        found = re.fullmatch(rf"{re.escape(method)}\s+({NUMBER})\s+({NUMBER})\s+(\d+)%\s+"
                             rf"({NUMBER}) (?:s|ms|µs|ns)\s+({NUMBER}) (?:s|ms|µs|ns)", line)
        assert found, f"unexpected row layout: {line!r}"
        assert all(float(v.replace(",", "")) > 0 for v in found.groups())


def test_quick_run_measures_what_it_reports(quick_run):
    assert [row.method for row in quick_run.rows] == list(METHODS)
    assert quick_run.peak_gflops > 0 and quick_run.batches >= 1
    for row in quick_run.rows:
        assert row.examples == quick_run.batches * quick_run.batch_size
        assert row.examples_per_second > 0 and row.gflops > 0
        assert row.timing.repeats >= 3 and min(row.timing.per_call) > 0
    if quick_run.xla_flops_per_example is not None:  # XLA's own count agrees with the hand count
        assert quick_run.xla_flops_per_example == pytest.approx(bench.flops_per_example(), rel=0.1)


def test_flops_per_example_counts_forward_and_backward_matmuls():
    forward = 2 * (784 * 512 + 512 * 10)
    assert bench.flops_per_example() == 2 * forward + 2 * 512 * 10


def test_numpy_gradients_match_jax_and_every_variant_takes_the_same_step():
    import jax

    rng = np.random.default_rng(3)
    params = bench.init_params(seed=1, scale=0.1)
    x = rng.uniform(size=(16, 784)).astype(np.float32)
    onehot = np.eye(10, dtype=np.float32)[rng.integers(0, 10, size=16)]
    loss, grads = bench.numpy_loss_and_grads(params, x, onehot)
    want_loss, want_grads = jax.value_and_grad(bench.jax_loss)(params, x, onehot)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
    for got, want in zip(jax.tree.leaves(grads), jax.tree.leaves(want_grads), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-6)

    batches = [(x[:8], onehot[:8]), (x[8:], onehot[8:])]
    by_numpy, _ = bench.run_epoch(bench.numpy_step, params, batches)
    by_jit, _ = bench.run_epoch(jax.jit(bench.jax_step), params, batches)
    by_scan, losses = jax.jit(bench.jax_epoch)(params, x.reshape(2, 8, 784), onehot.reshape(2, 8, 10))
    assert losses.shape == (2,)
    for a, b, c in zip(jax.tree.leaves(by_numpy), jax.tree.leaves(by_jit), jax.tree.leaves(by_scan), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(b, c, rtol=1e-4, atol=1e-6)
