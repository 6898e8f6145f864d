# task: task-02-feature-dropout
# why: the chapter's per-entry mask (shape x.shape), so each row drops different features
# see: 08_prng §8
def feature_dropout(key, x, rate):
    kept = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(kept, x / (1.0 - rate), 0.0)
