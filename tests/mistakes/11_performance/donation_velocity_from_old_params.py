# task: task-07-donation
# why: updates the parameters with the old velocity instead of the new one (p - 0.1 v rather than p - 0.1 v')
# see: 11_performance §8
@partial(jax.jit, donate_argnums=(0, 1))
def momentum_step(params, velocity, grads):
    new_velocity = jax.tree.map(lambda v, g: 0.9 * v + g, velocity, grads)
    params = jax.tree.map(lambda p, v: p - 0.1 * v, params, velocity)
    return params, new_velocity
