# task: task-02-dropout
# why: passes the drop rate to bernoulli as if it were the keep probability
import jax
import jax.numpy as jnp


def dropout(key, x, rate):
    keep = jax.random.bernoulli(key, rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)
