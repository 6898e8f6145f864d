# task: task-02-scan
# why: returns the final carry of lax.scan (the last average) instead of the stacked outputs
# see: 05_jit §6.6
from jax import lax


def ema(x, alpha):
    def step(previous, x_t):
        current = alpha * x_t + (1 - alpha) * previous
        return current, current

    last, _ = lax.scan(step, x[0], x)
    return last
