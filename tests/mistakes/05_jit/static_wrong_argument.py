# task: task-05-static
# why: static_argnums=0 marks x (an array, unhashable) static instead of degree
# see: 05_jit §4
import jax
import jax.numpy as jnp


def poly_features(x, degree):
    return x[:, None] ** jnp.arange(degree + 1)


poly_features = jax.jit(poly_features, static_argnums=0)
