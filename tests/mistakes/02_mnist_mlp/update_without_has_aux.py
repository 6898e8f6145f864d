# task: task-06-update
# why: forgets has_aux=True, so value_and_grad is asked to differentiate a (loss, aux) pair
@partial(jax.jit, static_argnames="loss_fn")
def update(loss_fn, params, x, y, lr):
    (loss, aux), grads = jax.value_and_grad(loss_fn)(params, x, y)
    new_params = jax.tree.map(lambda p, g: p - lr * g, params, grads)
    return new_params, loss, aux
