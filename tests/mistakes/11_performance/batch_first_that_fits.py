# task: task-06-largest-batch
# why: stops at the first batch size that fits, the smallest, instead of keeping the largest
# see: 11_performance §6
def largest_batch(budget_bytes):
    for batch in BATCH_SIZES:
        x = jax.ShapeDtypeStruct((batch, 128), jnp.float32)
        y = jax.ShapeDtypeStruct((batch, 10), jnp.float32)
        m = train_step.lower(PARAM_SPECS, x, y).compile().memory_analysis()
        if m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes - m.alias_size_in_bytes <= budget_bytes:
            return batch
    return None
