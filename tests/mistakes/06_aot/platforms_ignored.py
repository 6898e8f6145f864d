# task: task-08-platforms
# why: leaves out platforms=, so the export targets only the machine it was made on
# see: 06_aot §10.3
import jax
from jax import export


def export_for_platforms(fn, spec, platforms):
    return export.export(jax.jit(fn))(spec)
