# task: task-07-donation
# why: jits the step without donate_argnums, so the old parameters and velocity stay alive next to the new ones: twice the memory
# see: 11_performance §8
@jax.jit
def momentum_step(params, velocity, grads):
    velocity = jax.tree.map(lambda v, g: 0.9 * v + g, velocity, grads)
    params = jax.tree.map(lambda p, v: p - 0.1 * v, params, velocity)
    return params, velocity
