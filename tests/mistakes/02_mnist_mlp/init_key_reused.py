# task: task-01-init
# why: draws every layer's weights from the same key, so the layers start from the same numbers
# see: 08_prng §4
def init_params(key, sizes):
    return [{"w": jnp.sqrt(2.0 / n_in) * jax.random.normal(key, (n_out, n_in)), "b": jnp.zeros(n_out)}
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]
