# task: task-06-count
# why: creates jax.jit(lambda ...) inside the loop: each call gets a new function with an empty cache, so it counts calls
# see: 05_jit §7
import jax


def count_traces(fn, inputs):
    traces = 0

    def counted(x):
        nonlocal traces
        traces += 1
        return fn(x)

    for x in inputs:
        jax.jit(lambda v: counted(v))(x)
    return traces
