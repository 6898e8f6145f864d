# task: task-08-windows
# why: cuts each window with a Python slice x[s:s + size], which needs a static start under jit
# see: 05_jit §6.5
import jax.numpy as jnp


def window_sums(x, starts, size):
    return jnp.stack([x[s:s + size].sum() for s in starts])
