# task: task-07-donation
# why: donates the gradients as well, which the caller still owns (to log them, or to clip the next step): after the call they are deleted
# see: 11_performance §8
@partial(jax.jit, donate_argnums=(0, 1, 2))
def momentum_step(params, velocity, grads):
    velocity = jax.tree.map(lambda v, g: 0.9 * v + g, velocity, grads)
    params = jax.tree.map(lambda p, v: p - 0.1 * v, params, velocity)
    return params, velocity
