# task: task-04-step
# why: measures the accuracy with a second forward pass after the update, not on the step's own logits
# see: 09_ecosystem §7
@nnx.jit
def train_step(model, optimizer, x, y):
    def loss_fn(model):
        return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    accuracy = jnp.mean(jnp.argmax(model(x), axis=-1) == y)
    return loss, accuracy
