# task: task-05-softplus
# why: writes the derivative rule as e^x / (1 + e^x), which overflows to inf / inf = NaN for large x
# see: 04_autodiff §6
import jax
import jax.numpy as jnp


@jax.custom_jvp
def softplus(x):
    return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return softplus(x), jnp.exp(x) / (1 + jnp.exp(x)) * x_dot
