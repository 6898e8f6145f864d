# task: task-06-hamming
# why: maps over x and shares Ys (in_axes=(0, None)), the wrong argument batched
def hamming_to_rows(x, Ys):
    return jax.vmap(hamming, in_axes=(0, None))(x, Ys)
