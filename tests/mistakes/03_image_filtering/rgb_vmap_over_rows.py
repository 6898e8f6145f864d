# task: task-05-rgb
# why: vmap with the default in_axes=0 maps over rows and convolves each (width, channels) slice across the channel axis
# see: 03_image_filtering §7
import jax
from jax.scipy.signal import convolve2d


def filter_rgb(image, kernel):
    return jax.vmap(lambda c: convolve2d(c, kernel, mode="same"))(image)
