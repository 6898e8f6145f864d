# task: task-04-step
# why: forgets has_aux=True, so nnx.value_and_grad is asked to differentiate a (loss, accuracy) pair
# see: 02_mnist_mlp §7
@nnx.jit
def train_step(model, optimizer, x, y):
    def loss_and_accuracy(model):
        logits = model(x)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, jnp.mean(jnp.argmax(logits, axis=-1) == y)

    (loss, accuracy), grads = nnx.value_and_grad(loss_and_accuracy)(model)
    optimizer.update(model, grads)
    return loss, accuracy
