# task: task-01-convert
# why: converts with astype after clipping but never rounds, so 254.9 becomes 254 (truncation)
# see: 03_image_filtering §10
import jax.numpy as jnp


def to_float(img):
    return jnp.asarray(img).astype(jnp.float32) / 255.0


def to_uint8(img):
    return jnp.clip(jnp.asarray(img) * 255.0, 0, 255).astype(jnp.uint8)
