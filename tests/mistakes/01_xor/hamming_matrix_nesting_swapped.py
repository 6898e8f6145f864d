# task: task-05-hamming-matrix
# why: the inner map runs over A and the outer over B, so the result is the (k, m) transpose
# see: 07_vmap_pmap §2
def hamming_matrix(A, B):
    to_every_a = jax.vmap(hamming, in_axes=(0, None))
    return jax.vmap(to_every_a, in_axes=(None, 0))(A, B)
