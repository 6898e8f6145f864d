# task: task-06-static
# why: lowers and compiles inside the loop, once per array instead of once for all of them
# see: 06_aot §7


def run_compiled(jitted, xs, n):
    return [jitted.lower(x, n=n).compile()(x) for x in xs]
