# task: task-04-shuffle
# why: reshapes the shuffled rows to (-1, batch_size), right for a 1-D x but it cuts the rows of a 2-D x apart
# see: 08_prng §9
import jax


def epoch_batches(key, epoch, x, batch_size):
    order = jax.random.permutation(jax.random.fold_in(key, epoch), len(x))
    n_batches = len(x) // batch_size
    return x[order[: n_batches * batch_size]].reshape(-1, batch_size)
