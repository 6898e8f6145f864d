# task: task-03-correlate
# why: flips the filter (w[t - 1 - j] meets x[i + j]), a convolution, which differs from the correlation for an asymmetric w
# see: 10_pallas §3
import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl


def correlate_valid(x, w, block):
    taps = w.shape[0]
    n_out = x.shape[0] - taps + 1

    def kernel(x_ref, w_ref, o_ref):
        start = pl.program_id(0) * block
        total = jnp.zeros((block,), jnp.float32)
        for j in range(taps):
            total = total + w_ref[taps - 1 - j] * x_ref[pl.ds(start + j, block)]
        o_ref[...] = total

    return pl.pallas_call(kernel, out_shape=jax.ShapeDtypeStruct((n_out,), jnp.float32), grid=(n_out // block,),
                          in_specs=[pl.BlockSpec(x.shape, lambda i: (0,)), pl.BlockSpec(w.shape, lambda i: (0,))],
                          out_specs=pl.BlockSpec((block,), lambda i: (i,)), interpret=True)(x, w)
