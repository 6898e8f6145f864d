# task: task-04-residual
# why: adds the block of x the matmul multiplies (columns k) as the residual, not the block at the output's columns j
# see: 10_pallas §5
import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl


def residual_dense(x, w, b, block):
    def kernel(x_ref, w_ref, b_ref, o_ref):
        k = pl.program_id(2)

        @pl.when(k == 0)
        def _clear():
            o_ref[...] = jnp.zeros_like(o_ref)

        o_ref[...] += jnp.dot(x_ref[...], w_ref[...])

        @pl.when(k == pl.num_programs(2) - 1)
        def _epilogue():
            o_ref[...] = x_ref[...] + jax.nn.relu(o_ref[...] + b_ref[...])

    m, d = x.shape
    return pl.pallas_call(
        kernel, out_shape=jax.ShapeDtypeStruct((m, d), jnp.float32), grid=(m // block, d // block, d // block),
        in_specs=[pl.BlockSpec((block, block), lambda i, j, k: (i, k)), pl.BlockSpec((block, block), lambda i, j, k: (k, j)),
                  pl.BlockSpec((1, block), lambda i, j, k: (0, j))],
        out_specs=pl.BlockSpec((block, block), lambda i, j, k: (i, j)), interpret=True)(x, w, b.reshape(1, d))
