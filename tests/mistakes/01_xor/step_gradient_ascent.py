# task: task-03-step
# why: adds the gradient instead of subtracting it (gradient ascent)
def gradient_step(loss_fn, params, x, y, lr):
    grads = jax.grad(loss_fn)(params, x, y)
    return tuple(p + lr * g for p, g in zip(params, grads))
