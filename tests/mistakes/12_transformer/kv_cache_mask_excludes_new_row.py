# task: task-04-kv-cache
# why: masks with rows < pos, which hides the new position from itself (and leaves position 0 nothing to attend to)
# see: 12_transformer §3
import jax
import jax.numpy as jnp


def decode_step(cache_k, cache_v, q, k, v, pos):
    cache_k = cache_k.at[pos].set(k)
    cache_v = cache_v.at[pos].set(v)
    scores = jnp.einsum("hd,thd->ht", q, cache_k) / jnp.sqrt(q.shape[-1])
    scores = jnp.where(jnp.arange(cache_k.shape[0])[None, :] < pos, scores, -jnp.inf)
    return jnp.einsum("ht,thd->hd", jax.nn.softmax(scores, axis=-1), cache_v), cache_k, cache_v
