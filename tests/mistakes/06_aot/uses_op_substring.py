# task: task-02-uses-op
# why: tests whether op is any substring of the text, so "sin" is found in stablehlo.sine and "tensor" in every type
# see: 06_aot §2
import jax


def uses_op(fn, specs, op):
    return op in jax.jit(fn).lower(*specs).as_text()
