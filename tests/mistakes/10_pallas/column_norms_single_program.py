# task: task-02-column-norms
# why: gives one program the whole array, so nothing accumulates over a grid of row blocks: right numbers, but a block that need not fit in fast memory
# see: 10_pallas §4
import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl


def column_norms(x, rows_per_block):
    def kernel(x_ref, o_ref):
        whole = x_ref[...]
        o_ref[...] = jnp.sqrt((whole * whole).sum(axis=0, keepdims=True))

    n = x.shape[1]
    out = pl.pallas_call(kernel, out_shape=jax.ShapeDtypeStruct((1, n), jnp.float32),
                         interpret=True)(x)
    return out.reshape(n)
