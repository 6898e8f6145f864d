# task: task-01-init
# why: draws w and b of a layer from the same key (no second split), so b repeats the first numbers of w
def init_params(key, sizes, scale=0.01):
    keys = jax.random.split(key, len(sizes) - 1)
    params = []
    for layer_key, n_in, n_out in zip(keys, sizes[:-1], sizes[1:]):
        params.append((scale * jax.random.normal(layer_key, (n_out, n_in)),
                       scale * jax.random.normal(layer_key, (n_out,))))
    return params
