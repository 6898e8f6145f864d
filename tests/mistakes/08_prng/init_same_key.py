# task: task-01-init
# why: draws every layer from the same key instead of one split key per layer
# see: 08_prng §4
import jax
import jax.numpy as jnp


def init_layers(key, sizes):
    return [
        (jax.random.normal(key, (m, n)) * jnp.sqrt(2.0 / m), jnp.zeros(n))
        for m, n in zip(sizes[:-1], sizes[1:], strict=True)
    ]
