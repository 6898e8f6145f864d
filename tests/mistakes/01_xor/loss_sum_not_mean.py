# task: task-02-loss
# why: sums the per-example losses instead of averaging them, so the loss scales with n
def cross_entropy(y_hat, y, eps=1e-7):
    return -jnp.sum(y * jnp.log(y_hat + eps) + (1 - y) * jnp.log(1 - y_hat + eps))
