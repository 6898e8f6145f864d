# task: task-02-window
# why: masks only the positions too far back (j > i - window) and forgets the causal half, so the future leaks in
# see: 12_transformer §3
import jax
import jax.numpy as jnp


def sliding_window_attention(q, k, v, window):
    t = q.shape[0]
    i, j = jnp.arange(t)[:, None], jnp.arange(t)[None, :]
    scores = q @ k.T / jnp.sqrt(q.shape[-1])
    return jax.nn.softmax(jnp.where(j > i - window, scores, -jnp.inf), axis=-1) @ v
