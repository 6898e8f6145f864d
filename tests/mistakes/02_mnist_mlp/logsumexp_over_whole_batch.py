# task: task-04-loss
# why: logsumexp without axis normalises over every logit of the batch, not over each row's classes
# see: 02_mnist_mlp §6
def cross_entropy(logits, labels):
    log_probs = logits - jax.nn.logsumexp(logits)
    return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=-1))
