# task: task-02-load
# why: copies each w into the kernel but leaves Flax's own (zero) biases in place
# see: 09_ecosystem §5
def load_params(model, params):
    for layer, (w, _) in zip(model.layers, params):
        layer.kernel[...] = jnp.asarray(w).T
    return model
