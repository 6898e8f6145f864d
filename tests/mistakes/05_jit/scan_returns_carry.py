# task: task-02-scan
# why: returns the final carry of lax.scan (the last average) instead of the stacked outputs
from jax import lax


def ema(x, alpha):
    def step(previous, x_t):
        current = alpha * x_t + (1 - alpha) * previous
        return current, current

    last, _ = lax.scan(step, x[0], x)
    return last
