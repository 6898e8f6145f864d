# task: task-01-fori
# why: loops k over range(0, n) and adds x**k, so it sums x^0..x^(n-1) instead of x^1..x^n
# see: 05_jit §6.2
from jax import lax


def geometric_sum(x, n):
    return lax.fori_loop(0, n, lambda k, total: total + x**k, 0.0 * x)
