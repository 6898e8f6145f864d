# task: task-06-symmetric
# why: computes a correlation (kernel not flipped), which differs from a convolution for an asymmetric kernel
# see: 03_image_filtering §5
import jax.numpy as jnp
from jax.scipy.signal import correlate2d


def convolve_symmetric(channel, kernel):
    pad_rows, pad_cols = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = jnp.pad(channel, ((pad_rows, pad_rows), (pad_cols, pad_cols)), mode="symmetric")
    return correlate2d(padded, kernel, mode="valid")
