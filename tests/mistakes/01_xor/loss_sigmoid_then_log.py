# task: task-02-loss
# why: computes sigmoid(z) and the chapter's eps-guarded loss: finite, but capped near 16 for confident mistakes
# see: 02_mnist_mlp §6
def bce_with_logits(z, y, eps=1e-7):
    p = jax.nn.sigmoid(z)
    return -jnp.mean(y * jnp.log(p + eps) + (1 - y) * jnp.log(1 - p + eps))
