# task: task-03-box
# why: a kernel of ones that is never divided by its sum, so filtering multiplies the brightness
# see: 03_image_filtering §5
import jax.numpy as jnp


def box_kernel(size):
    return jnp.ones((size, size), dtype=jnp.float32)
