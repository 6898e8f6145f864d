# task: task-02-scan
# why: loops over the elements in Python, which tracing unrolls into one set of operations per element: the program grows with the input and compiles slowly
# see: 05_jit §6.6
import jax.numpy as jnp


def ema(x, alpha):
    smoothed = jnp.zeros_like(x).at[0].set(x[0])
    for t in range(1, x.shape[0]):
        smoothed = smoothed.at[t].set(alpha * x[t] + (1 - alpha) * smoothed[t - 1])
    return smoothed
