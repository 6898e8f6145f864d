# task: task-03-where
# why: decides the branch with a Python `if` on the traced residual, which cannot run under jit
# see: 05_jit §6.1
import jax.numpy as jnp


def huber(r, delta):
    if jnp.abs(r) <= delta:
        return 0.5 * r**2
    return delta * (jnp.abs(r) - 0.5 * delta)
