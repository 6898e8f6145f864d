# task: task-03-rope
# why: rotates neighbouring entries (x[:, 0::2] with x[:, 1::2]), the other common convention, instead of the two halves the task asks for
# see: 12_transformer §2
import jax.numpy as jnp


def rope(x, positions):
    half = x.shape[-1] // 2
    theta = positions[:, None].astype(jnp.float32) * 10000.0 ** (-2 * jnp.arange(half) / x.shape[-1])
    x1, x2 = x[:, 0::2], x[:, 1::2]
    out1 = x1 * jnp.cos(theta) - x2 * jnp.sin(theta)
    out2 = x1 * jnp.sin(theta) + x2 * jnp.cos(theta)
    return jnp.stack([out1, out2], axis=-1).reshape(x.shape)
