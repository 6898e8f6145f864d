# task: task-06-safe-norm
# why: guards with a single jnp.where, so the unselected sqrt branch sends 0 * inf = NaN into the gradient at zero rows
# see: 04_autodiff §5
import jax.numpy as jnp


def safe_norm(x):
    squared = jnp.sum(x**2, axis=-1)
    return jnp.where(squared > 0, jnp.sqrt(squared), 0.0)
