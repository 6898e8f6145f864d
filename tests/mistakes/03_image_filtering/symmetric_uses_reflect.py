# task: task-06-symmetric
# why: pads with mode="reflect" (edge pixel not repeated), which is not SciPy's boundary="symm"
# see: 03_image_filtering §9
import jax.numpy as jnp
from jax.scipy.signal import convolve2d


def convolve_symmetric(channel, kernel):
    pad_rows, pad_cols = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = jnp.pad(channel, ((pad_rows, pad_rows), (pad_cols, pad_cols)), mode="reflect")
    return convolve2d(padded, kernel, mode="valid")
