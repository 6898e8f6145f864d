# task: task-02-dropout
# why: zeroes entries but forgets to divide the kept ones by 1 - rate, so the mean shrinks
import jax
import jax.numpy as jnp


def dropout(key, x, rate):
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x, 0.0)
