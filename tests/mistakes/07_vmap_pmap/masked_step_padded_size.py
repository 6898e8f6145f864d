# task: task-06-masked-step
# why: masks the losses but divides by the padded batch size (jnp.mean over every row), so padding still shrinks the loss and the step
# see: 07_vmap_pmap §7
def masked_dp_step(loss_fn, params, xs, ys, mask, lr, axis_name):
    def local_mean(params):
        return jnp.mean(jnp.where(mask, loss_fn(params, xs, ys), 0.0))

    loss, grads = jax.value_and_grad(local_mean)(params)
    grads = lax.pmean(grads, axis_name)
    return jax.tree.map(lambda p, g: p - lr * g, params, grads), lax.pmean(loss, axis_name)
