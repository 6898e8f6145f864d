# task: task-05-logsumexp
# why: sums exp(x) without subtracting a running maximum, which overflows to inf for entries past about 88
# see: 10_pallas §6
import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl


def logsumexp_rows(x, cols_per_block):
    def kernel(x_ref, lse_ref, sum_ref):
        step = pl.program_id(0)

        @pl.when(step == 0)
        def _start():
            sum_ref[...] = jnp.zeros_like(sum_ref)

        sum_ref[...] += jnp.exp(x_ref[...]).sum(axis=1, keepdims=True)

        @pl.when(step == pl.num_programs(0) - 1)
        def _finish():
            lse_ref[...] = jnp.log(sum_ref[...])

    m, n = x.shape
    spec = pl.BlockSpec((m, 1), lambda c: (0, 0))
    lse, _ = pl.pallas_call(kernel, out_shape=[jax.ShapeDtypeStruct((m, 1), jnp.float32)] * 2, grid=(n // cols_per_block,),
                            in_specs=[pl.BlockSpec((m, cols_per_block), lambda c: (0, c))], out_specs=[spec, spec],
                            interpret=True)(x)
    return lse.reshape(m)
