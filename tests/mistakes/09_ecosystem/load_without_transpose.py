# task: task-02-load
# why: copies w as the kernel without transposing: chapter 02's w is (outputs, inputs), Flax's kernel (inputs, outputs)
# see: 09_ecosystem §5
def load_params(model, params):
    for layer, (w, b) in zip(model.layers, params):
        layer.kernel[...] = jnp.asarray(w)
        layer.bias[...] = jnp.asarray(b)
    return model
