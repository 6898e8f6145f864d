# task: task-01-init
# why: scales by the fan-out (n_out) instead of the fan-in, the shape's other number
# see: 02_mnist_mlp §3
def init_params(key, sizes):
    keys = jax.random.split(key, len(sizes) - 1)
    return [{"w": jnp.sqrt(2.0 / n_out) * jax.random.normal(k, (n_out, n_in)), "b": jnp.zeros(n_out)}
            for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:])]
