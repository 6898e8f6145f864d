# task: task-04-residual
# why: applies bias, ReLU and residual at every step along the sum, so partial sums are clipped and x is added once per step
# see: 10_pallas §5
import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl


def residual_dense(x, w, b, block):
    def kernel(x_ref, w_ref, b_ref, skip_ref, o_ref):
        @pl.when(pl.program_id(2) == 0)
        def _clear():
            o_ref[...] = jnp.zeros_like(o_ref)

        o_ref[...] = skip_ref[...] + jax.nn.relu(o_ref[...] + jnp.dot(x_ref[...], w_ref[...]) + b_ref[...])

    m, d = x.shape
    tile = pl.BlockSpec((block, block), lambda i, j, k: (i, j))
    return pl.pallas_call(
        kernel, out_shape=jax.ShapeDtypeStruct((m, d), jnp.float32), grid=(m // block, d // block, d // block),
        in_specs=[pl.BlockSpec((block, block), lambda i, j, k: (i, k)), pl.BlockSpec((block, block), lambda i, j, k: (k, j)),
                  pl.BlockSpec((1, block), lambda i, j, k: (0, j)), tile],
        out_specs=tile, interpret=True)(x, w, b.reshape(1, d), x)
