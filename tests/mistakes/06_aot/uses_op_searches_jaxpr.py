# task: task-02-uses-op
# why: searches the jaxpr instead of the StableHLO, where ops have other names (exp, not exponential)
# see: 06_aot §2
import jax


def uses_op(fn, specs, op):
    return op in str(jax.make_jaxpr(fn)(*specs))
