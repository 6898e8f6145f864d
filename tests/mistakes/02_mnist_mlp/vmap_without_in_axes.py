# task: task-03-vmap
# why: vmap without in_axes maps over axis 0 of the parameters as well as of the images
# see: 02_mnist_mlp §5
def batched_predict(predict_fn, params, images):
    return jax.vmap(predict_fn)(params, images)
