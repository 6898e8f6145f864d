# task: task-03-flops
# why: reads cost['flops'] directly, which raises KeyError for a program with no flops (tanh only)
# see: 06_aot §4
import jax


def flops_of(fn, specs):
    cost = jax.jit(fn).lower(*specs).compile().cost_analysis()
    return float(cost["flops"])
