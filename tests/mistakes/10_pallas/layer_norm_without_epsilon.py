# task: task-01-layer-norm
# why: divides by sqrt(variance) without the 1e-5, so a constant row (variance 0) gives 0 / 0 = NaN
# see: 10_pallas §6
import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl


def layer_norm_rows(x, rows_per_block):
    def kernel(x_ref, o_ref):
        rows = x_ref[...]
        centred = rows - rows.mean(axis=1, keepdims=True)
        o_ref[...] = centred / jnp.sqrt((centred * centred).mean(axis=1, keepdims=True))

    spec = pl.BlockSpec((rows_per_block, x.shape[1]), lambda i: (i, 0))
    return pl.pallas_call(kernel, out_shape=jax.ShapeDtypeStruct(x.shape, jnp.float32),
                          grid=(x.shape[0] // rows_per_block,), in_specs=[spec], out_specs=spec, interpret=True)(x)
