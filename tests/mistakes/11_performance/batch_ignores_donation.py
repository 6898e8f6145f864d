# task: task-06-largest-batch
# why: adds arguments, outputs and temporaries but does not subtract alias_size_in_bytes: the new parameters are written into the donated old ones and need no memory of their own
# see: 11_performance §8
def largest_batch(budget_bytes):
    fitting = []
    for batch in BATCH_SIZES:
        x = jax.ShapeDtypeStruct((batch, 128), jnp.float32)
        y = jax.ShapeDtypeStruct((batch, 10), jnp.float32)
        m = train_step.lower(PARAM_SPECS, x, y).compile().memory_analysis()
        if m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes <= budget_bytes:
            fitting.append(batch)
    return max(fitting, default=None)
