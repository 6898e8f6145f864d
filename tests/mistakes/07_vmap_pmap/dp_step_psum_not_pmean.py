# task: task-06-dp-step
# why: sums the gradients over devices with psum where pmean is meant, so the step is n_devices times too large
def dp_sgd_step(loss_fn, params, xs, ys, lr, axis_name):
    grads = jax.grad(loss_fn)(params, xs, ys)
    grads = lax.psum(grads, axis_name)
    return jax.tree.map(lambda p, g: p - lr * g, params, grads)
