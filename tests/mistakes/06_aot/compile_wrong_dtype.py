# task: task-01-compile
# why: lowers for float32 whatever dtype was asked for, so an int32 executable rejects int32 input
# see: 06_aot §7
import jax
import jax.numpy as jnp


def compile_for(fn, shape, dtype):
    spec = jax.ShapeDtypeStruct(shape, jnp.float32)
    return jax.jit(fn).lower(spec).compile()
