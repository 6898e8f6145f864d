# task: task-02-uses-op
# why: tests whether op is any substring of the text, so "sin" is found in stablehlo.sine and "tensor" in every type
import jax


def uses_op(fn, specs, op):
    return op in jax.jit(fn).lower(*specs).as_text()
