# task: task-07-donation
# why: donates the parameters but not the velocity, which the step replaces just the same: the old velocity stays alive next to the new one
# see: 11_performance §8
@partial(jax.jit, donate_argnums=0)
def momentum_step(params, velocity, grads):
    velocity = jax.tree.map(lambda v, g: 0.9 * v + g, velocity, grads)
    params = jax.tree.map(lambda p, v: p - 0.1 * v, params, velocity)
    return params, velocity
