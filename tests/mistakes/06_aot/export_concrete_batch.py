# task: task-07-export-batch
# why: exports with a concrete batch size, so the artifact only accepts batches of exactly 2 rows
# see: 06_aot §10.1
import jax
import jax.numpy as jnp
from jax import export


def export_batched(fn, n_features):
    spec = jax.ShapeDtypeStruct((2, n_features), jnp.float32)
    return export.export(jax.jit(fn))(spec).serialize()
