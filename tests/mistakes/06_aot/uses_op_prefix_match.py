# task: task-02-uses-op
# why: searches for "stablehlo." + op as a substring, so "log" matches stablehlo.log_plus_one and "max" stablehlo.maximum
# see: 06_aot §2
import jax


def uses_op(fn, specs, op):
    return f"stablehlo.{op}" in jax.jit(fn).lower(*specs).as_text()
