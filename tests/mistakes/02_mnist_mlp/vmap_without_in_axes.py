# task: task-03-vmap
# why: vmap without in_axes maps over axis 0 of the parameters as well as of the images
def batched_predict(predict_fn, params, images):
    return jax.vmap(predict_fn)(params, images)
