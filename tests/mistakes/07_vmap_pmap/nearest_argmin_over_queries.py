# task: task-02-nearest
# why: builds the (m, k) distance table with two vmaps, then takes argmin over axis 0 (the queries) instead of axis 1
# see: 07_vmap_pmap §2
def nearest_labels(A, B, labels):
    one_row = jax.vmap(distance, in_axes=(None, 0))
    table = jax.vmap(one_row, in_axes=(0, None))(A, B)
    return labels[jnp.argmin(table, axis=0)]
