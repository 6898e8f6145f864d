# task: task-06-ensemble
# why: initialises every network from the first key, so the ten networks are one network ten times
# see: 08_prng §5
def train_many(keys, steps, lr):
    def step(params):
        grads = jax.grad(xor_loss)(params, X, Y)
        return tuple(p - lr * g for p, g in zip(params, grads))

    step_all = jax.jit(jax.vmap(step))
    params = jax.vmap(lambda k: init_params(keys[0]))(keys)
    for _ in range(steps):
        params = step_all(params)
    return params, jax.vmap(xor_loss, in_axes=(0, None, None))(params, X, Y)
