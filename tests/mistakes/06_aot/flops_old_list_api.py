# task: task-03-flops
# why: follows older material, where cost_analysis() was a list of dicts, and indexes it with [0]
# see: 06_aot §4
import jax


def flops_of(fn, specs):
    cost = jax.jit(fn).lower(*specs).compile().cost_analysis()
    return float(cost[0].get("flops", 0.0))
