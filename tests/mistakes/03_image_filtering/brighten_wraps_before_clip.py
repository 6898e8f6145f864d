# task: task-02-brighten
# why: adds in uint8 (a Python int is weakly typed, so it wraps mod 256) and clips too late
# see: 03_image_filtering §3
import jax.numpy as jnp


def brighten(img, amount):
    return jnp.clip(jnp.asarray(img) + amount, 0, 255).astype(jnp.uint8)
