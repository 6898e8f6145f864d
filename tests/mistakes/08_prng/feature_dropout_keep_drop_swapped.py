# task: task-02-feature-dropout
# why: passes the drop rate to bernoulli as if it were the keep probability
# see: 08_prng §8
def feature_dropout(key, x, rate):
    kept = jax.random.bernoulli(key, rate, (1, x.shape[-1]))
    return x * kept / (1.0 - rate)
