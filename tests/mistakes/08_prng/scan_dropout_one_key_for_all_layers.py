# task: task-05-scan-dropout
# why: every layer draws its mask from the same key, so all layers drop the same positions
# see: 08_prng §10
def dropout_stack(key, x, weights, rate):
    def layer(h, w):
        h = jnp.tanh(h @ w)
        keep = jax.random.bernoulli(key, 1.0 - rate, h.shape)
        return jnp.where(keep, h / (1.0 - rate), 0.0), None

    h, _ = jax.lax.scan(layer, x, weights)
    return h
