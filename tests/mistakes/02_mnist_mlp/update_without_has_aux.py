# task: task-06-update
# why: passes a loss that returns (loss, acc) to value_and_grad without has_aux=True
# see: 02_mnist_mlp §7
@jax.jit
def smoothed_update(params, x, y, lr, alpha):
    def loss_fn(params):
        logits = mlp_logits(params, x)
        target = (1 - alpha) * jax.nn.one_hot(y, 10) + alpha / 10
        loss = -jnp.mean(jnp.sum(target * jax.nn.log_softmax(logits), axis=-1))
        return loss, jnp.mean(jnp.argmax(logits, axis=-1) == y)

    (loss, acc), grads = jax.value_and_grad(loss_fn)(params)
    return jax.tree.map(lambda p, g: p - lr * g, params, grads), loss, acc
