# task: task-01-compile
# why: creates a zero array to lower with, which the task forbids: a shape too large for memory then fails
# see: 06_aot §5
import jax
import jax.numpy as jnp


def compile_for(fn, shape, dtype):
    return jax.jit(fn).lower(jnp.zeros(shape, dtype)).compile()
