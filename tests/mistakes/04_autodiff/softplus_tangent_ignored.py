# task: task-05-softplus
# why: returns the derivative sigmoid(x) itself and never uses the tangents, instead of sigmoid(x) * x_dot
# see: 04_autodiff §6
import jax
import jax.numpy as jnp


@jax.custom_jvp
def softplus(x):
    return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x,) = primals
    return softplus(x), jax.nn.sigmoid(x)
