# task: task-05-scan-dropout
# why: applies dropout to the pre-activation and tanh after it, the two steps in the wrong order
# see: 08_prng §8
def dropout_stack(key, x, weights, rate):
    def layer(h, inputs):
        w, index = inputs
        z = h @ w
        keep = jax.random.bernoulli(jax.random.fold_in(key, index), 1.0 - rate, z.shape)
        return jnp.tanh(jnp.where(keep, z / (1.0 - rate), 0.0)), None

    h, _ = jax.lax.scan(layer, x, (weights, jnp.arange(weights.shape[0])))
    return h
