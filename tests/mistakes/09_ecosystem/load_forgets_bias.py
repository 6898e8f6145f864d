# task: task-02-load
# why: copies each w into the kernel but leaves Flax's own (zero) biases in place
def load_params(model, params):
    for layer, (w, _) in zip(model.layers, params):
        layer.kernel[...] = jnp.asarray(w).T
    return model
