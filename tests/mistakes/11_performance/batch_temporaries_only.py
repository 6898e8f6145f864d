# task: task-06-largest-batch
# why: counts only temp_size_in_bytes, forgetting that the arguments (the batch and the parameters) and the outputs need memory too
# see: 11_performance §6
def largest_batch(budget_bytes):
    fitting = []
    for batch in BATCH_SIZES:
        x = jax.ShapeDtypeStruct((batch, 128), jnp.float32)
        y = jax.ShapeDtypeStruct((batch, 10), jnp.float32)
        m = train_step.lower(PARAM_SPECS, x, y).compile().memory_analysis()
        if m.temp_size_in_bytes <= budget_bytes:
            fitting.append(batch)
    return max(fitting, default=None)
