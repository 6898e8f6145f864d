# task: task-03-rope
# why: uses the frequencies 10000^(-i/d) instead of 10000^(-2i/d), so the pairs turn too fast
# see: 12_transformer §2
import jax.numpy as jnp


def rope(x, positions):
    half = x.shape[-1] // 2
    theta = positions[:, None].astype(jnp.float32) * 10000.0 ** (-jnp.arange(half) / x.shape[-1])
    x1, x2 = x[:, :half], x[:, half:]
    return jnp.concatenate([x1 * jnp.cos(theta) - x2 * jnp.sin(theta), x1 * jnp.sin(theta) + x2 * jnp.cos(theta)], axis=1)
