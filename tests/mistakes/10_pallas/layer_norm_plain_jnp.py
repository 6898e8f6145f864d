# task: task-01-layer-norm
# why: computes the right numbers with jnp alone, so no pallas_call kernel runs over a grid of row blocks
# see: 10_pallas §3
import jax.numpy as jnp


def layer_norm_rows(x, rows_per_block):
    centred = x - x.mean(axis=1, keepdims=True)
    return centred / jnp.sqrt((centred * centred).mean(axis=1, keepdims=True) + 1e-5)
