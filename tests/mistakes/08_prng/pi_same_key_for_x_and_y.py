# task: task-03-pi
# why: draws x and y from the same key, so y equals x and every point lies on the diagonal
import jax
import jax.numpy as jnp


def estimate_pi(key, n):
    x = jax.random.uniform(key, (n,))
    y = jax.random.uniform(key, (n,))
    return 4.0 * jnp.mean(x**2 + y**2 <= 1.0)
