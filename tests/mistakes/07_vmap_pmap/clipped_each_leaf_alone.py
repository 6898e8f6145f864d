# task: task-03-clipped-grads
# why: clips every leaf of an example's gradient to max_norm on its own norm, instead of the whole gradient on its norm over all leaves
# see: 07_vmap_pmap §3
def clipped_mean_grad(loss_fn, params, xs, ys, max_norm):
    def clipped(x, y):
        g = jax.grad(loss_fn)(params, x, y)
        norm = jnp.sqrt(sum(jnp.sum(leaf**2) for leaf in jax.tree.leaves(g)))
        g = jax.tree.map(lambda leaf: leaf * jnp.minimum(1.0, max_norm / jnp.sqrt(jnp.sum(leaf**2))), g)
        return g, norm

    each, norms = jax.vmap(clipped)(xs, ys)
    return jax.tree.map(lambda leaf: jnp.mean(leaf, axis=0), each), norms
