# task: task-02-predict
# why: applies swish after the last layer too, so the logits are squashed (negative scores pinned near 0)
def predict(params, image):
    activations = image
    for w, b in params:
        activations = jax.nn.swish(w @ activations + b)
    return activations
