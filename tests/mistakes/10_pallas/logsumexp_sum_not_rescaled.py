# task: task-05-logsumexp
# why: keeps the running maximum but never rescales the running sum by exp(old max - new max) when the maximum grows
# see: 10_pallas §7
import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl


def logsumexp_rows(x, cols_per_block):
    def kernel(x_ref, m_ref, l_ref):
        step = pl.program_id(0)

        @pl.when(step == 0)
        def _start():
            m_ref[...] = jnp.full(m_ref.shape, -jnp.inf)
            l_ref[...] = jnp.zeros_like(l_ref)

        block = x_ref[...]
        m_new = jnp.maximum(m_ref[...], block.max(axis=1, keepdims=True))
        l_ref[...] = l_ref[...] + jnp.exp(block - m_new).sum(axis=1, keepdims=True)
        m_ref[...] = m_new

        @pl.when(step == pl.num_programs(0) - 1)
        def _finish():
            m_ref[...] = m_ref[...] + jnp.log(l_ref[...])

    m, n = x.shape
    spec = pl.BlockSpec((m, 1), lambda c: (0, 0))
    lse, _ = pl.pallas_call(kernel, out_shape=[jax.ShapeDtypeStruct((m, 1), jnp.float32)] * 2, grid=(n // cols_per_block,),
                            in_specs=[pl.BlockSpec((m, cols_per_block), lambda c: (0, c))], out_specs=[spec, spec],
                            interpret=True)(x)
    return lse.reshape(m)
