# task: task-08-sobel
# why: uses convolve2d's mode="same" (zeros outside), so every border pixel looks like an edge
# see: 03_image_filtering §9
import jax.numpy as jnp
from jax.scipy.signal import convolve2d


def sobel_magnitude(channel):
    kx = jnp.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    gx = convolve2d(channel, kx, mode="same")
    gy = convolve2d(channel, kx.T, mode="same")
    return jnp.sqrt(gx**2 + gy**2)
