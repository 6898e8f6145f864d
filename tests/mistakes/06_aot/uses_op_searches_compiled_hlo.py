# task: task-02-uses-op
# why: searches the compiled HLO, where XLA has already removed or renamed some of the ops
# see: 06_aot §2
import jax


def uses_op(fn, specs, op):
    return op in jax.jit(fn).lower(*specs).compile().as_text()
