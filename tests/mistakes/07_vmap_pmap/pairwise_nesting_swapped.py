# task: task-02-pairwise
# why: the inner vmap runs over A and the outer over B, so the table comes back transposed (k, m)
def pairwise_distances(A, B):
    one_column = jax.vmap(distance, in_axes=(0, None))
    return jax.vmap(one_column, in_axes=(None, 0))(A, B)
