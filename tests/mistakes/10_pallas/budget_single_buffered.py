# task: task-06-budget
# why: counts each block once, forgetting that double buffering keeps two copies of the input and of the output block
# see: 10_pallas §4
import jax.numpy as jnp


def block_rows_for_budget(shape, dtype, budget_bytes):
    m, n = shape
    best = None
    for rows in range(8, m + 1, 8):
        if m % rows == 0 and 2 * rows * n * jnp.dtype(dtype).itemsize <= budget_bytes:
            best = rows
    return best
