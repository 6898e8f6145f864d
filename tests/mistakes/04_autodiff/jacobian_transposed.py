# task: task-04-jacobian
# why: vmap stacks the JVP columns along axis 0 (out_axes defaults to 0), so it returns J transposed, (n, m)
# see: 07_vmap_pmap §1
import jax
import jax.numpy as jnp


def jacobian_from_jvp(f, x):
    def column(tangent):
        return jax.jvp(f, (x,), (tangent,))[1]

    return jax.vmap(column)(jnp.eye(x.shape[0], dtype=x.dtype))
