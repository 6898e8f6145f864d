# task: task-02-window
# why: keeps j >= i - window, which lets each position see window + 1 positions
# see: 12_transformer §3
import jax
import jax.numpy as jnp


def sliding_window_attention(q, k, v, window):
    t = q.shape[0]
    i, j = jnp.arange(t)[:, None], jnp.arange(t)[None, :]
    allowed = (j <= i) & (j >= i - window)
    scores = q @ k.T / jnp.sqrt(q.shape[-1])
    return jax.nn.softmax(jnp.where(allowed, scores, -jnp.inf), axis=-1) @ v
