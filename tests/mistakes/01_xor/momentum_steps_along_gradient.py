# task: task-03-momentum
# why: updates the velocity but steps along the raw gradient, so momentum never acts on the parameters
# see: 01_xor §5
def momentum_step(loss_fn, params, velocity, x, y, lr, beta=0.9):
    grads = jax.grad(loss_fn)(params, x, y)
    velocity = tuple(beta * v + g for v, g in zip(velocity, grads))
    return tuple(p - lr * g for p, g in zip(params, grads)), velocity
