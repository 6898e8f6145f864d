# task: task-07-copies
# why: vmaps with one shared key (in_axes=None) instead of a batch of split keys, so all copies are equal
# see: 08_prng §5
import jax
import jax.numpy as jnp


def noisy_copies(key, x, n, sigma):
    def one_copy(k, _):
        return x + sigma * jax.random.normal(k, x.shape)

    return jax.vmap(one_copy, in_axes=(None, 0))(key, jnp.arange(n))
