# task: task-02-nearest
# why: returns the index of the nearest point instead of its label
# see: 07_vmap_pmap §2
def nearest_labels(A, B, labels):
    def label_of_nearest(a):
        return jnp.argmin(jax.vmap(distance, in_axes=(None, 0))(a, B))

    return jax.vmap(label_of_nearest)(A)
