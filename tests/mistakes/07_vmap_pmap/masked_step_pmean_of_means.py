# task: task-06-masked-step
# why: the equal-slices recipe: each device's masked mean gradient, then pmean, which overweights half-empty devices (and a device without real rows gives NaN)
# see: 07_vmap_pmap §6
def masked_dp_step(loss_fn, params, xs, ys, mask, lr, axis_name):
    def local_mean(params):
        return jnp.sum(jnp.where(mask, loss_fn(params, xs, ys), 0.0)) / jnp.sum(mask)

    loss, grads = jax.value_and_grad(local_mean)(params)
    grads = lax.pmean(grads, axis_name)
    return jax.tree.map(lambda p, g: p - lr * g, params, grads), lax.pmean(loss, axis_name)
