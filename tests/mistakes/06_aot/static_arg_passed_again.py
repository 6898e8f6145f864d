# task: task-06-static
# why: passes the static argument n again when calling the Compiled, which only takes x
# see: 06_aot §8


def run_compiled(jitted, xs, n):
    compiled = jitted.lower(xs[0], n=n).compile()
    return [compiled(x, n=n) for x in xs]
