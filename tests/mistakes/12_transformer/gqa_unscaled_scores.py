# task: task-01-gqa
# why: forgets to divide the scores by sqrt(d), so the softmax is too sharp
# see: 12_transformer §3
import jax
import jax.numpy as jnp


def gqa_attention(q, k, v):
    b, t, hq, d = q.shape
    hkv = k.shape[2]
    qg = q.reshape(b, t, hkv, hq // hkv, d)
    scores = jnp.einsum("bihgd,bjhd->bhgij", qg, k)
    scores = jnp.where(jnp.tril(jnp.ones((t, t), dtype=bool)), scores, -jnp.inf)
    out = jnp.einsum("bhgij,bjhd->bihgd", jax.nn.softmax(scores, axis=-1), v)
    return out.reshape(b, t, hq, d)
