# task: task-07-epoch
# why: shuffles the images and the labels with two different keys, so labels no longer match images
# see: 02_mnist_mlp §2
def train_epoch(update_fn, params, x, y, batch_size, key):
    x_key, y_key = jax.random.split(key)
    x = np.asarray(x)[np.asarray(jax.random.permutation(x_key, len(x)))]
    y = np.asarray(y)[np.asarray(jax.random.permutation(y_key, len(y)))]
    losses = []
    for start in range(0, len(x) - batch_size + 1, batch_size):
        params, loss, _ = update_fn(params, x[start:start + batch_size], y[start:start + batch_size])
        losses.append(loss)
    return params, jnp.stack(losses)
