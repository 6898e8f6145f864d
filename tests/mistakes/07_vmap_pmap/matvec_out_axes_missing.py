# task: task-01-matvec
# why: maps the vector columns with in_axes=(0, 1) but forgets out_axes=1, so the products come back as rows (B, m)
# see: 07_vmap_pmap §1
def batched_matvec(mats, vecs):
    return jax.vmap(lambda m, v: m @ v, in_axes=(0, 1))(mats, vecs)
