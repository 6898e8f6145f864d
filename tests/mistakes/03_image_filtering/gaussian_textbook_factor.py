# task: task-04-gaussian
# why: uses the textbook factor 1/(2 pi sigma^2) instead of dividing by the sum, so a finite kernel does not sum to 1
# see: 03_image_filtering §5
import jax.numpy as jnp


def gaussian_kernel(size, sigma):
    offsets = jnp.arange(size) - size // 2
    x, y = jnp.meshgrid(offsets, offsets)
    return jnp.exp(-(x**2 + y**2) / (2.0 * sigma**2)) / (2.0 * jnp.pi * sigma**2)
