# task: task-05-top-k
# why: sorts ascending and keeps the first k columns: the k smallest logits, not the k largest
# see: 02_mnist_mlp §6
def top_k_accuracy(logits, labels, k):
    best = jnp.argsort(logits, axis=-1)[:, :k]
    return jnp.mean(jnp.any(best == labels[:, None], axis=-1))
