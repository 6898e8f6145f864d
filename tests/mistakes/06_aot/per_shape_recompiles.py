# task: task-05-per-shape
# why: compiles again on every call and overwrites the entry, so the cache never saves a compilation
# see: 06_aot §7
import jax


class PerShapeCompiler:
    def __init__(self, fn):
        self.fn = fn
        self.compiled = {}

    def __call__(self, x):
        key = (x.shape, x.dtype)
        spec = jax.ShapeDtypeStruct(x.shape, x.dtype)
        self.compiled[key] = jax.jit(self.fn).lower(spec).compile()
        return self.compiled[key](x)
