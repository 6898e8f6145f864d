# task: task-05-per-shape
# why: keys the executables by shape only, so an int32 array is sent to the float32 executable
# see: 06_aot §7
import jax


class PerShapeCompiler:
    def __init__(self, fn):
        self.fn = fn
        self.compiled = {}

    def __call__(self, x):
        key = x.shape
        if key not in self.compiled:
            spec = jax.ShapeDtypeStruct(x.shape, x.dtype)
            self.compiled[key] = jax.jit(self.fn).lower(spec).compile()
        return self.compiled[key](x)
