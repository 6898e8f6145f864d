# task: task-04-pad
# why: pads with jnp.zeros without the batch's dtype, so float32 padding turns an integer batch into float32
# see: 05_jit §11
def pad_batch(batch, n):
    missing = -batch.shape[0] % n
    padded = jnp.concatenate([batch, jnp.zeros((missing, *batch.shape[1:]))])
    mask = jnp.arange(padded.shape[0]) < batch.shape[0]
    return padded, mask


def shard_batch(batch, mesh):
    padded, mask = pad_batch(batch, mesh.shape["data"])
    rows = NamedSharding(mesh, P("data"))
    return jax.device_put(padded, rows), jax.device_put(mask, rows)
