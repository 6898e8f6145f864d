# task: task-06-ensemble
# why: returns each network's loss from before its last step (value_and_grad inside the step), one step late
# see: 02_mnist_mlp §8
def train_many(keys, steps, lr):
    def step(params):
        loss, grads = jax.value_and_grad(xor_loss)(params, X, Y)
        return tuple(p - lr * g for p, g in zip(params, grads)), loss

    step_all = jax.jit(jax.vmap(step))
    params = jax.vmap(init_params)(keys)
    losses = jax.vmap(xor_loss, in_axes=(0, None, None))(params, X, Y)
    for _ in range(steps):
        params, losses = step_all(params)
    return params, losses
