# task: task-03-clipped-grads
# why: averages the per-example gradients first and clips the mean, which bounds nothing per example
# see: 07_vmap_pmap §3
def clipped_mean_grad(loss_fn, params, xs, ys, max_norm):
    grads = jax.vmap(jax.grad(loss_fn), in_axes=(None, 0, 0))(params, xs, ys)
    norms = jnp.sqrt(sum(jnp.sum(leaf.reshape(leaf.shape[0], -1) ** 2, axis=1) for leaf in jax.tree.leaves(grads)))
    mean = jax.tree.map(lambda leaf: jnp.mean(leaf, axis=0), grads)
    mean_norm = jnp.sqrt(sum(jnp.sum(leaf**2) for leaf in jax.tree.leaves(mean)))
    return jax.tree.map(lambda leaf: leaf * jnp.minimum(1.0, max_norm / mean_norm), mean), norms
