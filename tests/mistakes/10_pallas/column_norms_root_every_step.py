# task: task-02-column-norms
# why: takes the square root at every step, so later programs add their squares to a root of a partial sum
# see: 10_pallas §5
import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl


def column_norms(x, rows_per_block):
    def kernel(x_ref, o_ref):
        @pl.when(pl.program_id(0) == 0)
        def _clear():
            o_ref[...] = jnp.zeros_like(o_ref)

        part = x_ref[...]
        o_ref[...] = jnp.sqrt(o_ref[...] + (part * part).sum(axis=0, keepdims=True))

    n = x.shape[1]
    out = pl.pallas_call(kernel, out_shape=jax.ShapeDtypeStruct((1, n), jnp.float32),
                         grid=(x.shape[0] // rows_per_block,),
                         in_specs=[pl.BlockSpec((rows_per_block, n), lambda i: (i, 0))],
                         out_specs=pl.BlockSpec((1, n), lambda i: (0, 0)), interpret=True)(x)
    return out.reshape(n)
