# task: task-03-per-example
# why: vmap without in_axes maps axis 0 of the parameters too, instead of sharing them (in_axes=None)
def per_example_grads(loss_fn, params, xs, ys):
    return jax.vmap(jax.grad(loss_fn))(params, xs, ys)
