# task: task-04-shuffle
# why: folds a constant into the key instead of the epoch, so every epoch has the same order
# see: 08_prng §9
import jax


def epoch_batches(key, epoch, x, batch_size):
    order = jax.random.permutation(jax.random.fold_in(key, 0), len(x))
    n_batches = len(x) // batch_size
    return x[order[: n_batches * batch_size]].reshape(n_batches, batch_size, *x.shape[1:])
