# task: task-02-predict
# why: returns the last layer's logits as the chapter did, not log-probabilities
# see: 02_mnist_mlp §6
def predict(params, image):
    h = image
    for layer in params[:-1]:
        h = jax.nn.gelu(layer["w"] @ h + layer["b"])
    return params[-1]["w"] @ h + params[-1]["b"]
