"""Benchmarks printed by `jaxcourse bench NAME [--quick]` (tables to read, not tests).

`mnist`: training throughput of chapter 02's 784-512-10 swish MLP (cross-entropy, plain SGD)
on same-shaped batches of the shipped MNIST digits, four ways:

- NumPy with hand-written gradients (the baseline JAX replaces);
- JAX without jit (`jax.value_and_grad`, every operation dispatched on its own);
- JAX with one jitted step per batch (a Python loop over batches);
- JAX with the whole epoch compiled as one `lax.scan` over the batches;

each with the GFLOP/s it reaches, next to the float32 matmul peak measured on the same
machine with a jitted matmul. All timings go through `jaxcourse.timing`: first call (tracing
and compilation) apart, results waited for, medians over repeats.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial

import numpy as np

from jaxcourse import timing

SIZES = (784, 512, 10)
BATCH_SIZE = 128
LEARNING_RATE = 0.1


# --- the model, three times: NumPy by hand, JAX op by op, JAX compiled -------------------------------


def init_params(seed: int = 0, sizes=SIZES, scale: float = 0.01) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(w (out, in), b (out,)), ...] as float32 NumPy arrays, shared by every variant."""
    rng = np.random.default_rng(seed)
    return [(scale * rng.standard_normal((n_out, n_in), dtype=np.float32),
             scale * rng.standard_normal(n_out, dtype=np.float32))
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=False)]


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free


def numpy_loss_and_grads(params, x, onehot):
    """Cross-entropy of the swish MLP on a batch and its gradients, derived by hand."""
    (w1, b1), (w2, b2) = params
    z1 = x @ w1.T + b1
    s1 = _sigmoid(z1)
    h = z1 * s1                                   # swish
    logits = h @ w2.T + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -(onehot * log_probs).sum(axis=1).mean()
    d_logits = (np.exp(log_probs) - onehot) / len(x)
    d_h = d_logits @ w2
    d_z1 = d_h * (s1 + z1 * s1 * (1.0 - s1))     # swish'(z) = s + z s (1 - s)
    grads = [(d_z1.T @ x, d_z1.sum(axis=0)), (d_logits.T @ h, d_logits.sum(axis=0))]
    return loss, grads


def numpy_step(params, x, onehot, lr=LEARNING_RATE):
    loss, grads = numpy_loss_and_grads(params, x, onehot)
    return [(w - lr * dw, b - lr * db) for (w, b), (dw, db) in zip(params, grads, strict=True)], loss


def jax_loss(params, x, onehot):
    import jax
    import jax.numpy as jnp

    (w1, b1), (w2, b2) = params
    logits = jax.nn.swish(x @ w1.T + b1) @ w2.T + b2
    log_probs = logits - jax.nn.logsumexp(logits, axis=1, keepdims=True)
    return -jnp.mean(jnp.sum(onehot * log_probs, axis=1))


def jax_step(params, x, onehot, lr=LEARNING_RATE):
    import jax

    loss, grads = jax.value_and_grad(jax_loss)(params, x, onehot)
    return jax.tree.map(lambda p, g: p - lr * g, params, grads), loss


def jax_epoch(params, xs, onehots, lr=LEARNING_RATE):
    """One epoch as one program: lax.scan carries the parameters through every batch."""
    import jax

    def body(params, batch):
        return jax_step(params, *batch, lr)

    return jax.lax.scan(body, params, (xs, onehots))


def run_epoch(step, params, batches):
    """The Python loop every per-batch variant shares; returns the last parameters and loss."""
    loss = None
    for x, onehot in batches:
        params, loss = step(params, x, onehot)
    return params, loss


# --- measurements ---------------------------------------------------------------------------------


def flops_per_example(sizes=SIZES) -> int:
    """Matmul FLOPs to train on one example: forward (2mn a layer), the weight gradients (2mn a
    layer) and the activation gradients of every layer but the first (2mn)."""
    layers = list(zip(sizes[:-1], sizes[1:], strict=False))
    forward = sum(2 * m * n for m, n in layers)
    return forward + forward + sum(2 * m * n for m, n in layers[1:])


def matmul_peak(sizes: tuple[int, ...], repeats: int) -> tuple[float, int]:
    """The best float32 GFLOP/s of a jitted square matmul over `sizes`, and the size reaching it."""
    import jax
    import jax.numpy as jnp

    matmul = jax.jit(jnp.matmul)
    best = (0.0, sizes[0])
    for n in sizes:
        keys = jax.random.split(jax.random.key(n))
        a = jax.random.normal(keys[0], (n, n), jnp.float32)
        b = jax.random.normal(keys[1], (n, n), jnp.float32)
        run = timing.measure(matmul, a, b, label=f"matmul {n}", repeats=repeats, min_repeat_seconds=0.1)
        best = max(best, (2 * n**3 / run.median / 1e9, n))
    return best


@dataclass(frozen=True)
class Row:
    method: str
    timing: timing.Timing  # seconds per epoch
    examples: int
    flops_per_example: int

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.timing.median

    @property
    def gflops(self) -> float:
        return self.examples_per_second * self.flops_per_example / 1e9


@dataclass(frozen=True)
class MnistBench:
    rows: tuple[Row, ...]
    peak_gflops: float
    peak_size: int
    batch_size: int
    batches: int
    device: str
    xla_flops_per_example: float | None

    def table(self) -> str:
        examples = self.batches * self.batch_size
        lines = [
            f"MNIST MLP {'-'.join(map(str, SIZES))} (swish, cross-entropy, SGD): training throughput",
            f"an epoch: {self.batches} batches of {self.batch_size} shipped digits ({examples:,} examples); "
            f"JAX device: {self.device}",
            f"float32 matmul peak (jitted {self.peak_size}x{self.peak_size} matmul): {self.peak_gflops:.1f} GFLOP/s",
            "",
        ]
        header = (f"{'method':<34}{'examples/s':>12}{'GFLOP/s':>10}{'of peak':>9}"
                  f"{'epoch (median)':>16}{'first call':>12}")
        lines += [header, "-" * len(header)]
        for row in self.rows:
            lines.append(
                f"{row.method:<34}{row.examples_per_second:>12,.0f}{row.gflops:>10.1f}"
                f"{row.gflops / self.peak_gflops:>9.0%}{timing.format_seconds(row.timing.median):>16}"
                f"{timing.format_seconds(row.timing.first_call):>12}"
            )
        counted = f"{self.rows[0].flops_per_example / 1e6:.2f} MFLOP per example (matmuls only"
        if self.xla_flops_per_example:
            counted += f"; XLA's cost_analysis of the jitted step: {self.xla_flops_per_example / 1e6:.2f}"
        lines += [
            "",
            f"GFLOP/s = examples/s x {counted}). Medians of {self.rows[0].timing.repeats} repeats; "
            "first call (tracing, compilation) not in the median. NumPy runs on the CPU whatever the JAX device.",
        ]
        return "\n".join(lines)


def run_mnist(quick: bool = False) -> MnistBench:
    import jax

    from jaxcourse.data import load_mnist

    digits = load_mnist("train", source="bundled", verbose=False)
    count = 10 if quick else len(digits) // BATCH_SIZE
    x = digits.images[: count * BATCH_SIZE].reshape(count, BATCH_SIZE, -1).astype(np.float32) / 255.0
    onehot = np.eye(SIZES[-1], dtype=np.float32)[digits.labels[: count * BATCH_SIZE]].reshape(count, BATCH_SIZE, -1)
    numpy_batches = list(zip(x, onehot, strict=True))
    x_dev, onehot_dev = jax.device_put(x), jax.device_put(onehot)
    jax_batches = list(zip(x_dev, onehot_dev, strict=True))
    params = init_params()
    params_dev = jax.device_put(params)
    repeats = 3 if quick else 7
    flops = flops_per_example()

    step = jax.jit(jax_step)
    epoch = jax.jit(jax_epoch)
    runs = [
        ("NumPy, hand-written gradients", partial(run_epoch, numpy_step, params, numpy_batches)),
        ("JAX, no jit", partial(run_epoch, jax_step, params_dev, jax_batches)),
        ("JAX, jit per batch", partial(run_epoch, step, params_dev, jax_batches)),
        ("JAX, jit of a lax.scan epoch", partial(epoch, params_dev, x_dev, onehot_dev)),
    ]
    rows = tuple(
        Row(name, timing.measure(fn, label=name, repeats=repeats, number=1),
            count * BATCH_SIZE, flops)
        for name, fn in runs
    )
    try:
        cost = step.lower(params_dev, x_dev[0], onehot_dev[0]).compile().cost_analysis()
        xla_flops = float(cost["flops"]) / BATCH_SIZE if cost and cost.get("flops") else None
    except Exception:  # cost analysis is best-effort: not every backend reports it
        xla_flops = None
    peak, size = matmul_peak((512, 1024) if quick else (512, 1024, 2048), repeats)
    device = jax.devices()[0]
    where = f"{device.platform} ({device.device_kind}), {os.cpu_count()} CPU cores visible"
    return MnistBench(rows, peak, size, BATCH_SIZE, count, where, xla_flops)


def mnist(quick: bool = False) -> str:
    """The MNIST training-throughput table (quick: 10 batches an epoch, 3 repeats, smaller matmuls)."""
    return run_mnist(quick).table()
