# task: task-02-scan
# why: swaps the weights, alpha * s_{t-1} + (1 - alpha) * x_t: the same as the formula only at alpha = 0.5
# see: 05_jit §6
from jax import lax


def ema(x, alpha):
    def step(previous, x_t):
        current = alpha * previous + (1 - alpha) * x_t
        return current, current

    _, smoothed = lax.scan(step, x[0], x)
    return smoothed
