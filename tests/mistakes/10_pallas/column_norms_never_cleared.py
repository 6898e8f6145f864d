# task: task-02-column-norms
# why: adds into the output block without clearing it at the first step, so the sum starts from uninitialised memory
# see: 10_pallas §4
import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl


def column_norms(x, rows_per_block):
    def kernel(x_ref, o_ref):
        part = x_ref[...]
        o_ref[...] += (part * part).sum(axis=0, keepdims=True)

        @pl.when(pl.program_id(0) == pl.num_programs(0) - 1)
        def _root():
            o_ref[...] = jnp.sqrt(o_ref[...])

    n = x.shape[1]
    out = pl.pallas_call(kernel, out_shape=jax.ShapeDtypeStruct((1, n), jnp.float32),
                         grid=(x.shape[0] // rows_per_block,),
                         in_specs=[pl.BlockSpec((rows_per_block, n), lambda i: (i, 0))],
                         out_specs=pl.BlockSpec((1, n), lambda i: (0, 0)), interpret=True)(x)
    return out.reshape(n)
