# task: task-06-safe-norm
# why: applies the chapter's safe_sqrt double where to each entry of x, so a zero entry counts as 1: safe_norm([0, 5]) is sqrt(26)
# see: 04_autodiff §5
import jax.numpy as jnp


def safe_norm(x):
    nonzero = x != 0
    x_safe = jnp.where(nonzero, x, 1.0)
    return jnp.where(jnp.any(nonzero, axis=-1), jnp.sqrt(jnp.sum(x_safe**2, axis=-1)), 0.0)
