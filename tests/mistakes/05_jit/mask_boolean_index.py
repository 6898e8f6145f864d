# task: task-07-mask
# why: selects with boolean indexing x[mask], whose length depends on the data, so jit cannot compile it
# see: 05_jit §6.4
import jax.numpy as jnp


def mean_in_range(x, lo, hi):
    selected = x[(x >= lo) & (x < hi)]
    return jnp.where(selected.size > 0, selected.mean(), 0.0)
