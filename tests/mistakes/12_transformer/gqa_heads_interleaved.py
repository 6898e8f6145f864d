# task: task-01-gqa
# why: gives query head h the key and value head h % Hkv (as jnp.tile would), not h // G, so the groups are interleaved instead of consecutive
# see: 12_transformer §4
import jax
import jax.numpy as jnp


def gqa_attention(q, k, v):
    b, t, hq, d = q.shape
    hkv = k.shape[2]
    k = jnp.tile(k, (1, 1, hq // hkv, 1))
    v = jnp.tile(v, (1, 1, hq // hkv, 1))
    scores = jnp.einsum("bihd,bjhd->bhij", q, k) / jnp.sqrt(d)
    scores = jnp.where(jnp.tril(jnp.ones((t, t), dtype=bool)), scores, -jnp.inf)
    return jnp.einsum("bhij,bjhd->bihd", jax.nn.softmax(scores, axis=-1), v)
